package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"govlive/pii"
)

// The lexicon files of a pack: language data that editors keep beside the
// content, read by search and by the chat bot. They are stored as written
// (comments included) and checked when stored.
const (
	SynonymsFile = "lexicon/synonyms.txt"
	IntentsFile  = "lexicon/intents.yaml"
)

// LexiconFiles lists the lexicon files a pack may have.
var LexiconFiles = []string{SynonymsFile, IntentsFile, RepliesFile, ExamplesFile}

// Lexicon is the parsed form of the lexicon files.
type Lexicon struct {
	// Synonyms are groups of words that mean the same in a question; the
	// first word of a group is its canonical form. A group of one word is
	// a domain term: search weighs it as one word, not as its characters.
	Synonyms [][]string
	// Cues are the intent cues of the chat bot.
	Cues Cues
	// Replies are the bot's texts to viewers (DefaultReplies where the
	// replies file says nothing).
	Replies Replies
	// Examples are the example messages the bot's intent classifier
	// learns from.
	Examples Examples
}

// Cues are phrases that mark what a chat message is. A cue matches when
// the normalised message contains it; "…" (or "...") inside a cue stands
// for any text, so "我的…被退回" matches 我的申请昨天被退回.
type Cues struct {
	Urgent          []string `yaml:"urgent"`           // time pressure or safety on site
	Complaint       []string `yaml:"complaint"`        // a complaint about staff or one service
	PersonalCase    []string `yaml:"personal_case"`    // the viewer's own case: progress, refusal, delivery
	HumanRequest    []string `yaml:"human_request"`    // asking for a person
	OutOfScope      []string `yaml:"out_of_scope"`     // topics the center does not handle here
	Chitchat        []string `yaml:"chitchat"`         // talk that is not a question to the center
	Abuse           []string `yaml:"abuse"`            // insults
	Spam            []string `yaml:"spam"`             // advertising, scams
	OfficialNumbers []string `yaml:"official_numbers"` // the center's published numbers: never personal data
	// OfficialAddresses are the center's published addresses (示例市XX路1号):
	// never personal data.
	OfficialAddresses []string `yaml:"official_addresses"`
	// NotAbuse are ordinary words that contain an abuse cue or sound like
	// one (马上 has 你马 before it in 你马上到; 比较 sounds like the end of
	// 傻逼 in 啥比较好): an abuse cue found overlapping one does not count.
	NotAbuse []string `yaml:"not_abuse"`
	// Emoji maps an emoji to the word it stands for in abuse (🐶 狗, 🐴
	// 马): moderation reads 你🐴 as 你马, where other emoji are removed.
	Emoji map[string]string `yaml:"emoji"`
}

// ParseSynonyms reads synonyms.txt: one group a line, words separated by
// spaces, commas or 、, the canonical word first; a line of one word names
// a domain term; # starts a comment. A word may belong to one group only.
func ParseSynonyms(text string) ([][]string, error) {
	var groups [][]string
	seen := map[string]int{}
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		words := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || r == ',' || r == '，' || r == '、' || r == '/'
		})
		if len(words) == 0 {
			continue
		}
		pe := func(format string, args ...any) error {
			return &PackError{File: SynonymsFile, Line: n + 1, Err: fmt.Errorf(format, args...)}
		}
		if !utf8.ValidString(line) {
			return nil, pe("不是有效的 UTF-8 文本")
		}
		for _, w := range words {
			if utf8.RuneCountInString(w) > 50 {
				return nil, pe("词 %q 太长", w)
			}
			if m, dup := seen[w]; dup {
				return nil, pe("词 %q 已在第 %d 行出现", w, m)
			}
			seen[w] = n + 1
		}
		groups = append(groups, words)
	}
	return groups, nil
}

// ParseIntents reads intents.yaml: a mapping from the keys of Cues to lists
// of cues. Unknown keys are an error naming the key and line.
func ParseIntents(text string) (Cues, error) {
	var c Cues
	if strings.TrimSpace(text) == "" {
		return c, nil
	}
	if !utf8.ValidString(text) {
		return c, &PackError{File: IntentsFile, Err: errors.New("不是有效的 UTF-8 文本")}
	}
	root, err := yamlDocument([]byte(text))
	if err != nil {
		return c, withPackFile(IntentsFile, err)
	}
	if len(root.Content) == 0 {
		return c, nil
	}
	m := root.Content[0]
	if err := checkKeys(m, cueKeys, ""); err != nil {
		return c, withPackFile(IntentsFile, err)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "emoji" {
			if err := checkEmoji(k, v); err != nil {
				return c, err
			}
			continue
		}
		if v.Kind != yaml.SequenceNode {
			return c, &PackError{File: IntentsFile, Line: k.Line, Key: k.Value, Err: errors.New("应是一个列表")}
		}
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "" {
				return c, &PackError{File: IntentsFile, Line: item.Line, Key: k.Value, Err: errors.New("每一项应是一段非空文字")}
			}
			if k.Value == "official_addresses" && !pii.IsAddress(item.Value) {
				return c, &PackError{File: IntentsFile, Line: item.Line, Key: k.Value,
					Err: fmt.Errorf("%q 读不出地址：应写路名和门牌号（示例市XX路1号），或小区、楼栋、单元、房号", item.Value)}
			}
		}
	}
	if err := m.Decode(&c); err != nil {
		return c, withPackFile(IntentsFile, yamlError(err))
	}
	return c, nil
}

var cueKeys = []string{"urgent", "complaint", "personal_case", "human_request", "out_of_scope", "chitchat", "abuse", "spam", "official_numbers", "official_addresses", "not_abuse", "emoji"}

// maxEmojiWord is how long the word an emoji stands for may be.
const maxEmojiWord = 4

// checkEmoji checks the emoji table of intents.yaml: a mapping from one
// emoji (a variation selector after it allowed) to a word of Chinese
// characters or Latin letters, each emoji once.
func checkEmoji(k, v *yaml.Node) error {
	pe := func(line int, format string, args ...any) error {
		return &PackError{File: IntentsFile, Line: line, Key: k.Value, Err: fmt.Errorf(format, args...)}
	}
	if v.Kind != yaml.MappingNode {
		return pe(k.Line, "应是“表情: 文字”的对照表，例如 🐶: 狗")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		e, w := v.Content[i], v.Content[i+1]
		if e.Kind != yaml.ScalarNode || !IsEmoji(e.Value) {
			return pe(e.Line, "%q 不是一个表情符号", e.Value)
		}
		if n, dup := seen[EmojiKey(e.Value)]; dup {
			return pe(e.Line, "表情 %s 已在第 %d 行出现", e.Value, n)
		}
		seen[EmojiKey(e.Value)] = e.Line
		word := strings.TrimSpace(w.Value)
		if w.Kind != yaml.ScalarNode || word == "" {
			return pe(w.Line, "表情 %s 应对应一段非空文字", e.Value)
		}
		if n := utf8.RuneCountInString(word); n > maxEmojiWord || strings.ContainsFunc(word, func(r rune) bool {
			return !unicode.Is(unicode.Han, r) && !(r < utf8.RuneSelf && unicode.IsLetter(r))
		}) {
			return pe(w.Line, "表情 %s 对应的 %q 应是 1 到 %d 个汉字或字母", e.Value, word, maxEmojiWord)
		}
	}
	return nil
}

// IsEmoji reports whether s is one emoji character, a variation selector
// (U+FE0F) after it allowed: a symbol, not a letter, digit or punctuation
// mark.
func IsEmoji(s string) bool {
	r, size := utf8.DecodeRuneInString(strings.TrimSpace(s))
	rest := strings.TrimSpace(s)[size:]
	return size > 0 && r >= 0x2000 && unicode.Is(unicode.So, r) && (rest == "" || rest == "\uFE0F")
}

// EmojiKey returns the emoji character of an entry of the emoji table,
// without its variation selector.
func EmojiKey(s string) string {
	return strings.TrimSuffix(strings.TrimSpace(s), "\uFE0F")
}

func withPackFile(file string, err error) error {
	var pe *PackError
	if errors.As(err, &pe) {
		pe.File = file
		return pe
	}
	return &PackError{File: file, Err: err}
}

// checkLexiconFile parses a lexicon file by name.
func checkLexiconFile(name, text string) error {
	switch name {
	case SynonymsFile:
		_, err := ParseSynonyms(text)
		return err
	case IntentsFile:
		_, err := ParseIntents(text)
		return err
	case RepliesFile:
		_, err := ParseReplies(text)
		return err
	case ExamplesFile:
		_, err := ParseExamples(text)
		return err
	}
	return &PackError{File: name, Err: fmt.Errorf("不是词表文件（允许：%s）", strings.Join(LexiconFiles, "、"))}
}

// Lexicon returns the parsed lexicon; a file never stored parses as empty.
// All files are read in one snapshot.
func (s *Store) Lexicon(ctx context.Context) (Lexicon, error) {
	var (
		lx                Lexicon
		syn, in, rep, exs string
	)
	err := s.inReadTx(ctx, func(q querier) error {
		var err error
		if syn, err = getLexiconFile(ctx, q, SynonymsFile); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if in, err = getLexiconFile(ctx, q, IntentsFile); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if rep, err = getLexiconFile(ctx, q, RepliesFile); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if exs, err = getLexiconFile(ctx, q, ExamplesFile); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return lx, err
	}
	if lx.Synonyms, err = ParseSynonyms(syn); err != nil {
		return lx, err
	}
	if lx.Cues, err = ParseIntents(in); err != nil {
		return lx, err
	}
	if lx.Replies, err = ParseReplies(rep); err != nil {
		return lx, err
	}
	if lx.Examples, err = ParseExamples(exs); err != nil {
		return lx, err
	}
	return lx, nil
}

// LexiconFile returns a lexicon file's text as stored.
func (s *Store) LexiconFile(ctx context.Context, name string) (string, error) {
	return getLexiconFile(ctx, s.r, name)
}

func getLexiconFile(ctx context.Context, q querier, name string) (string, error) {
	var text string
	err := q.QueryRowContext(ctx, `SELECT body FROM lexicon_files WHERE name = ?`, name).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("lexicon %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read lexicon %s: %w", name, err)
	}
	return text, nil
}

// PutLexiconFile checks and stores a lexicon file, with a revision by
// actor. Storing the same text again changes nothing.
func (s *Store) PutLexiconFile(ctx context.Context, name, text, actor string) (changed bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err = putLexiconFile(ctx, tx, s.change(actor, ActionCreate, ""), name, text)
		return err
	})
	return changed, err
}

// lexiconText is how a lexicon file appears in a revision.
type lexiconText struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

func putLexiconFile(ctx context.Context, tx *sql.Tx, c change, name, text string) (bool, error) {
	if err := checkLexiconFile(name, text); err != nil {
		return false, err
	}
	if err := c.valid(); err != nil {
		return false, err
	}
	stored, err := getLexiconFile(ctx, tx, name)
	prevText, unchanged, err := prior(&c, stored, err, func(v string) bool { return v == text })
	if err != nil || unchanged {
		return false, err
	}
	var prev *lexiconText
	if prevText != nil {
		prev = &lexiconText{Name: name, Text: *prevText}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lexicon_files (name, body) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET body = excluded.body`, name, text); err != nil {
		return false, fmt.Errorf("write lexicon %s: %w", name, err)
	}
	if err := c.record(ctx, tx, KindLexicon, name, prev, &lexiconText{Name: name, Text: text}); err != nil {
		return false, err
	}
	return true, nil
}
