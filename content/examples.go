package content

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ExamplesFile holds example messages for the kinds of chat message that
// need more than an answer: the chat bot's intent classifier learns from
// them, beside the substring cues of IntentsFile.
const ExamplesFile = "lexicon/examples.yaml"

// MaxExample is the longest example sentence, in characters.
const MaxExample = 200

// Examples are sentences as viewers write them, by the kind of message
// they are. The FAQ entries' questions and similar phrasings stand for
// ordinary how-to questions; Question adds how-to questions that look
// like the other kinds (how does one complain, what if a case is
// overdue) and must stay questions.
type Examples struct {
	Question     []string `yaml:"question"`      // how-to questions near the other kinds
	Urgent       []string `yaml:"urgent"`        // time pressure or safety on site
	Complaint    []string `yaml:"complaint"`     // about staff or one service
	PersonalCase []string `yaml:"personal_case"` // the viewer's own matter
	HumanRequest []string `yaml:"human_request"` // asking for a person
	OutOfScope   []string `yaml:"out_of_scope"`  // questions for someone else: everyday life, other offices' matters
	Chitchat     []string `yaml:"chitchat"`      // talk that is not a question to the center
	Abuse        []string `yaml:"abuse"`         // insults
}

// Len is the number of example sentences.
func (e Examples) Len() int {
	return len(e.Question) + len(e.Urgent) + len(e.Complaint) + len(e.PersonalCase) + len(e.HumanRequest) + len(e.OutOfScope) + len(e.Chitchat) + len(e.Abuse)
}

var exampleKeys = []string{"question", "urgent", "complaint", "personal_case", "human_request", "out_of_scope", "chitchat", "abuse"}

// ParseExamples reads examples.yaml: a mapping from the keys of Examples
// to lists of sentences. Unknown keys, an item that is not a non-empty
// sentence of at most MaxExample characters, and a sentence written twice
// (under one key or two) are errors naming the line.
func ParseExamples(text string) (Examples, error) {
	var ex Examples
	if strings.TrimSpace(text) == "" {
		return ex, nil
	}
	if !utf8.ValidString(text) {
		return ex, &PackError{File: ExamplesFile, Err: errors.New("不是有效的 UTF-8 文本")}
	}
	root, err := yamlDocument([]byte(text))
	if err != nil {
		return ex, withPackFile(ExamplesFile, err)
	}
	if len(root.Content) == 0 {
		return ex, nil
	}
	m := root.Content[0]
	if err := checkKeys(m, exampleKeys, ""); err != nil {
		return ex, withPackFile(ExamplesFile, err)
	}
	seen := map[string]int{} // sentence → line
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind != yaml.SequenceNode {
			return ex, &PackError{File: ExamplesFile, Line: k.Line, Key: k.Value, Err: errors.New("应是一个例句列表")}
		}
		for _, item := range v.Content {
			pe := func(format string, args ...any) error {
				return &PackError{File: ExamplesFile, Line: item.Line, Key: k.Value, Err: fmt.Errorf(format, args...)}
			}
			s := strings.TrimSpace(item.Value)
			switch {
			case item.Kind != yaml.ScalarNode || s == "":
				return ex, pe("每一项应是一句非空的例句")
			case utf8.RuneCountInString(s) > MaxExample:
				return ex, pe("例句太长（%d 个字，最多 %d 个字）", utf8.RuneCountInString(s), MaxExample)
			}
			if line, dup := seen[s]; dup {
				return ex, pe("例句 %q 重复（第 %d 行已有）", s, line)
			}
			seen[s] = item.Line
		}
	}
	if err := m.Decode(&ex); err != nil {
		return ex, withPackFile(ExamplesFile, yamlError(err))
	}
	for _, list := range []*[]string{&ex.Question, &ex.Urgent, &ex.Complaint, &ex.PersonalCase, &ex.HumanRequest, &ex.OutOfScope, &ex.Chitchat, &ex.Abuse} {
		for i, s := range *list {
			(*list)[i] = strings.TrimSpace(s)
		}
	}
	return ex, nil
}
