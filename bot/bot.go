// Package bot is govlive's chat pipeline: it reads a viewer's message,
// hides abuse and spam, masks personal data, and decides — answer with a
// FAQ entry's standard answer or a cited document passage, escalate to
// live assisted handling (直播帮办), or decline — from the knowledge index
// and the intent cues that editors keep in the content pack.
package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"govlive/content"
	"govlive/pii"
	"govlive/retrieval"
)

// Action is what the bot does with a message.
type Action string

// The actions.
const (
	ActionAnswer   Action = "answer"
	ActionEscalate Action = "escalate"
	ActionDecline  Action = "decline"
	ActionModerate Action = "moderate"
)

// Reason says why: which cue or which lack of evidence led to the action.
type Reason string

// The reasons. The first five are the escalation reasons of live assisted
// handling; LowConfidence escalates an in-scope question the knowledge
// base cannot answer with confidence.
const (
	ReasonPII           Reason = "pii"
	ReasonUrgent        Reason = "urgent"
	ReasonComplaint     Reason = "complaint"
	ReasonPersonalCase  Reason = "personal_case"
	ReasonHumanRequest  Reason = "human_request"
	ReasonLowConfidence Reason = "low_confidence"
	ReasonFAQ           Reason = "faq"
	ReasonClarify       Reason = "clarify" // near tie: the viewer is asked which entry was meant
	ReasonDocument      Reason = "document"
	ReasonOutOfScope    Reason = "out_of_scope"
	ReasonChitchat      Reason = "chitchat"
	ReasonAbuse         Reason = "abuse"
	ReasonSpam          Reason = "spam"
)

// Decision is the bot's answer to one message, with the evidence.
type Decision struct {
	Action Action `json:"action"`
	Reason Reason `json:"reason"`
	// Source names where an answer comes from: 《title》 of the FAQ entry's
	// source documents, or 《title》label of the cited passage.
	Source string `json:"source,omitempty"`
	// FAQ or Hit is the answer's origin.
	FAQ *content.FAQEntry `json:"faq,omitempty"`
	Hit *retrieval.Hit    `json:"hit,omitempty"`
	// Confidence of the best hit, in [0,1].
	Confidence float64 `json:"confidence"`
	// Cue is the intent cue that matched, if one decided.
	Cue string `json:"cue,omitempty"`
	// Intent is the intent classifier's verdict, if it decided.
	Intent *Intent `json:"intent,omitempty"`
	// Masked is the message with personal data masked (and abusive words,
	// when an abusive message is kept for a person): what may be shown or
	// stored.
	Masked string `json:"masked"`
	// Hidden says the message is not shown in the public chat: abuse and
	// spam, and a complaint made abusively (escalated, its abuse masked).
	Hidden bool        `json:"hidden,omitempty"`
	PII    []pii.Match `json:"pii,omitempty"`
	// Search is what retrieval found (nil when a cue decided first).
	Search *retrieval.Result `json:"search,omitempty"`
	// Options are the entries a clarifying question offers (ReasonClarify),
	// best first: the viewer answers with a number.
	Options []Option `json:"options,omitempty"`
}

// Searcher finds FAQ entries and passages for a question.
type Searcher interface {
	Search(ctx context.Context, q retrieval.Query) (retrieval.Result, error)
}

var _ Searcher = (*retrieval.Index)(nil)

// Documents looks up a document by id, for the titles of FAQ sources.
type Documents interface {
	Document(ctx context.Context, id content.DocID) (content.Document, error)
}

// Thresholds are the confidence levels that turn search results into a
// decision. They are configuration; DefaultThresholds are chosen on the
// development question set. A Config with the zero Thresholds gets
// DefaultThresholds; otherwise every field is taken as given.
type Thresholds struct {
	// FAQ: answer with the best FAQ entry at or above this confidence.
	FAQ float64 `json:"faq"`
	// Doc: answer with the best passage at or above this confidence, when
	// no FAQ entry qualifies or the passage beats it by DocMargin.
	Doc       float64 `json:"doc"`
	DocMargin float64 `json:"doc_margin"`
	// DocBeyond: a passage wins over a qualifying FAQ entry only if it
	// explains at least this share of the question that the entry does not
	// (retrieval.Hit.Beyond): otherwise the standard answer says it all.
	DocBeyond float64 `json:"doc_beyond"`
	// ClarifyMargin: when FAQ entries of one category are within this of
	// the best one's confidence, the viewer is asked which was meant
	// (unless the best is at or above ClarifySure). 0: never ask back.
	ClarifyMargin float64 `json:"clarify_margin"`
	ClarifySure   float64 `json:"clarify_sure"`
	// Scope: below this (for both kinds) a question is out of scope and
	// declined; between Scope and the answer levels it is escalated.
	Scope float64 `json:"scope"`
	// CueOverride: a chit-chat cue (a greeting, talk about the anchor)
	// declines unless a FAQ entry matches at least this well.
	CueOverride float64 `json:"cue_override"`
	// TopicOverride: an out-of-scope cue (another agency's matter) is a
	// stronger sign, overridden only by a FAQ entry matching this well (地铁
	// in a question about the way to the center).
	TopicOverride float64 `json:"topic_override"`
}

// DefaultThresholds are the thresholds used when none are configured.
var DefaultThresholds = Thresholds{FAQ: 0.1, Doc: 0.2, DocMargin: 0, DocBeyond: 0.03, ClarifyMargin: 0.02, ClarifySure: 0.5, Scope: 0.08, CueOverride: 0.35, TopicOverride: 0.6}

// Config is what a Bot needs.
type Config struct {
	Searcher   Searcher
	Documents  Documents
	Normalizer *retrieval.Normalizer
	Lexicon    content.Lexicon // the first lexicon; SetLexicon replaces it
	Thresholds Thresholds      // zero value: DefaultThresholds
	// Questions are the knowledge base's phrasings, which the intent
	// classifier learns ordinary questions from (nil: no classifier, the
	// cues decide alone).
	Questions Questions
}

// Bot decides what to do with chat messages. It is safe for concurrent use.
type Bot struct {
	cfg  Config
	fold *folder
	lex  atomic.Pointer[compiled]
}

// compiled is a lexicon in the form the bot matches with: replaced whole
// by SetLexicon, so that one decision sees one lexicon.
type compiled struct {
	urgent, complaint, personal, human, outOfScope, chitchat cueList
	mod                                                      *modMatcher
	pii                                                      *pii.Detector
	official                                                 map[string]bool // digits of the official numbers

	intent learner // learnt from the examples
}

// New returns a Bot with cfg.Lexicon (see SetLexicon; ctx bounds the
// training of its intent classifier).
func New(ctx context.Context, cfg Config) (*Bot, error) {
	if cfg.Searcher == nil || cfg.Normalizer == nil || cfg.Documents == nil {
		return nil, errors.New("bot: Config needs Searcher, Documents and Normalizer")
	}
	if cfg.Thresholds == (Thresholds{}) {
		cfg.Thresholds = DefaultThresholds
	}
	b := &Bot{cfg: cfg, fold: newFolder(cfg.Normalizer.Normalize)}
	if err := b.SetLexicon(ctx, cfg.Lexicon); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	return b, nil
}

// SetLexicon replaces the cues, the moderation lists and the official
// numbers and addresses with those of lx (a new content version), and
// trains the intent classifier again on lx's examples and the questions
// as they are now (about a tenth of a second, when they changed). Decisions under way
// finish with the lexicon they started with; later ones use lx. If ctx
// is done before the classifier is trained, the lexicon stays as it was
// and the error is ctx's.
func (b *Bot) SetLexicon(ctx context.Context, lx content.Lexicon) error {
	learnt, err := b.learner(ctx, lx.Examples)
	if err != nil {
		return err
	}
	n := b.cfg.Normalizer.Normalize
	c := lx.Cues
	b.lex.Store(&compiled{
		urgent:     compileCues(n, c.Urgent),
		complaint:  compileCues(n, c.Complaint),
		personal:   compileCues(n, c.PersonalCase),
		human:      compileCues(n, c.HumanRequest),
		outOfScope: compileCues(n, c.OutOfScope),
		chitchat:   compileCues(n, c.Chitchat),
		mod:        newModMatcher(b.fold, c),
		pii:        pii.New(slices.Concat(c.OfficialNumbers, c.OfficialAddresses)),
		official:   officialDigits(c.OfficialNumbers),
		intent:     learnt,
	})
	return nil
}

// Message is one chat message to decide on, with the session context.
type Message struct {
	ID      MessageID // 0 until stored
	Text    string
	Session content.SessionID
	Segment int // current run-sheet segment, from 1; 0 for none
	Sender  Sender
	Time    time.Time
}

// maxChitchatRest is how much a message may say besides its chit-chat cue
// and still be chit-chat.
const maxChitchatRest = 8

// maxMessage bounds what is analysed; livestream comments are short.
const maxMessage = 2000

// Explain decides like Decide and, when the decision came before any
// search (spam, personal data, an urgency cue), searches the masked text
// as well, so that the decision always carries the hits behind it: what
// "govlive ask" and the studio's "try the bot" show.
func (b *Bot) Explain(ctx context.Context, m Message) (Decision, error) {
	d, err := b.Decide(ctx, m)
	if err != nil || d.Search != nil {
		return d, err
	}
	res, err := b.cfg.Searcher.Search(ctx, retrieval.Query{Text: d.Masked, Session: m.Session, Segment: m.Segment, K: 5})
	if err != nil {
		return Decision{}, fmt.Errorf("bot: search: %w", err)
	}
	d.Search = &res
	return d, nil
}

// Decide decides what to do with one message.
func (b *Bot) Decide(ctx context.Context, m Message) (Decision, error) {
	lx := b.lex.Load()
	text := clean(m.Text)
	norm := b.cfg.Normalizer.Normalize(text)
	flat := squash(norm)
	mod := b.moderate(lx, text, norm)
	masked := mod.piiMasked
	d := Decision{Masked: masked, PII: mod.PII}

	if flat == "" {
		d.Action, d.Reason = ActionDecline, ReasonChitchat
		return d, nil
	}
	// 1. Abuse and spam are hidden before anything else. (The cues must be
	// specific: a viewer reporting an ad or a scam quotes its words.)
	if mod.Hidden {
		// A grievance told abusively (废物，一个证拖了一个月) is still a
		// complaint: hidden from the public chat, but a person takes it,
		// with the abuse masked.
		if mod.Reason == ReasonAbuse {
			if cc, ok := lx.complaint.matchAsFact(flat); ok {
				d.Masked = mod.Masked
				d.Hidden = true
				return b.escalate(d, ReasonComplaint, cc.text), nil
			}
		}
		return b.hide(d, mod.Reason, mod.Cue), nil
	}
	// 2. Personal data posted in public: masked, and a person follows up
	// (checked before flooding, which moderation did: a bare phone number
	// repeats digits).
	if len(mod.PII) > 0 {
		return b.escalate(d, ReasonPII, ""), nil
	}
	// 3. Time pressure and safety come before anything else.
	if c, ok := lx.urgent.match(flat); ok {
		return b.escalate(d, ReasonUrgent, c.text), nil
	}
	// 4. Search the knowledge base.
	res, err := b.cfg.Searcher.Search(ctx, retrieval.Query{Text: masked, Session: m.Session, Segment: m.Segment, K: 5})
	if err != nil {
		return Decision{}, fmt.Errorf("bot: search: %w", err)
	}
	d.Search = &res
	t := b.cfg.Thresholds
	var faq, doc *retrieval.Hit
	if len(res.FAQ) > 0 {
		faq = &res.FAQ[0]
	}
	if len(res.Docs) > 0 {
		doc = &res.Docs[0]
	}
	fc, dc := conf(faq), conf(doc)
	d.Confidence = max(fc, dc)
	// A cue declines when nothing contradicts it: no FAQ entry matches
	// well, and the question names none of the center's own matters (医院
	// in a question about a food licence, a greeting before a question).
	decline := func(l cueList, r Reason, override float64) (Decision, bool) {
		c, ok := l.match(flat)
		if !ok || fc >= override || len(res.Terms) > 0 {
			return d, false
		}
		// Chit-chat is a whole message (主播好漂亮), not a greeting in
		// front of a question (大家好，第一次看直播，想提问要怎么发).
		if r == ReasonChitchat && utf8.RuneCountInString(flat)-c.runes() > maxChitchatRest {
			return d, false
		}
		d.Action, d.Reason, d.Cue = ActionDecline, r, c.text
		return d, true
	}
	// 5. Matters the center does not handle are declined, even when told
	// as one's own case, unless the knowledge base clearly answers.
	if d, ok := decline(lx.outOfScope, ReasonOutOfScope, t.TopicOverride); ok {
		return d, nil
	}
	// 6. Cases that need a person, in order of precedence.
	for _, e := range []struct {
		list   cueList
		reason Reason
	}{
		{lx.complaint, ReasonComplaint},
		{lx.personal, ReasonPersonalCase},
		{lx.human, ReasonHumanRequest},
	} {
		if c, ok := e.list.matchAsFact(flat); ok {
			return b.escalate(d, e.reason, c.text), nil
		}
	}
	// 7. Chit-chat is declined unless the knowledge base clearly answers.
	if d, ok := decline(lx.chitchat, ReasonChitchat, t.CueOverride); ok {
		return d, nil
	}
	// 8. What the lexicon's examples teach: a message like those of a
	// case for a person, of chit-chat or of abuse is taken as one.
	if d, ok := b.learned(lx, d, text, fc, dc, len(res.Terms) > 0); ok {
		return d, nil
	}
	// 9. Answer, escalate or decline on confidence. A weak match on a
	// question that names the center's own matters (a domain term of the
	// lexicon) goes to a person; one that names none is out of scope.
	switch {
	case len(res.Elsewhere) > 0:
		// The question is about a document the knowledge base is never
		// asked about (驾驶证, 结婚证): another office's, whatever entry
		// shares its other words (丢了怎么补办).
		d.Action, d.Reason, d.Cue = ActionDecline, ReasonOutOfScope, res.Elsewhere[0]
		return d, nil
	case len(res.Outside) > 0 && len(res.Terms) == 0 && fc < t.CueOverride && dc < t.CueOverride:
		// Nothing the question names is in the knowledge base, and a
		// frequent noun among it (户口, 公积金) says what it is about:
		// another office's matter, unless an entry or a passage matches it
		// well.
		d.Action, d.Reason, d.Cue = ActionDecline, ReasonOutOfScope, res.Outside[0]
		return d, nil
	case faq != nil && len(faq.Other) > 0 && !(doc != nil && dc >= t.Doc && names(doc, faq.Other) && len(doc.Other) == 0):
		// The entry is about another document than the one asked about
		// (结婚证 against the entry on a lost 从业资格证), and no passage
		// that names it, and is not about another one itself, answers (身份
		// 证 in a guide to the qualification, among what to bring): a
		// matter of another office.
		d.Action, d.Reason, d.Cue = ActionDecline, ReasonOutOfScope, faq.Other[0]
		return d, nil
	case faq != nil && len(faq.Other) == 0 && fc >= t.FAQ && !(doc != nil && dc >= t.Doc && dc >= fc+t.DocMargin && doc.Beyond >= t.DocBeyond):
		if ties := nearTies(res.FAQ, t.ClarifyMargin, t.ClarifySure, t.FAQ); ties != nil {
			return b.clarify(ctx, d, ties)
		}
		return b.answerFAQ(ctx, d, faq)
	case doc != nil && dc >= t.Doc:
		return b.answerDoc(d, doc), nil
	case d.Confidence >= t.Scope && len(res.Terms) > 0:
		return b.escalate(d, ReasonLowConfidence, ""), nil
	}
	d.Action, d.Reason = ActionDecline, ReasonOutOfScope
	return d, nil
}

// names reports whether passage h has every one of words (none is among
// the question's salient words it lacks).
func names(h *retrieval.Hit, words []string) bool {
	return !slices.ContainsFunc(words, func(w string) bool { return slices.Contains(h.Missing, w) })
}

func conf(h *retrieval.Hit) float64 {
	if h == nil {
		return 0
	}
	return h.Confidence
}

func (b *Bot) hide(d Decision, r Reason, cue string) Decision {
	d.Action, d.Reason, d.Cue, d.Hidden = ActionModerate, r, cue, true
	return d
}

func (b *Bot) escalate(d Decision, r Reason, cue string) Decision {
	d.Action, d.Reason, d.Cue = ActionEscalate, r, cue
	return d
}

// Option is a FAQ entry offered by a clarifying question.
type Option struct {
	FAQ        *content.FAQEntry `json:"faq"`
	Source     string            `json:"source,omitempty"` // its source documents' titles
	Confidence float64           `json:"confidence"`
}

// Chosen is the decision of a viewer who answered a clarifying question
// with option o: its standard answer.
func Chosen(o Option, masked string) Decision {
	return Decision{Action: ActionAnswer, Reason: ReasonFAQ, FAQ: o.FAQ, Source: o.Source, Confidence: o.Confidence, Masked: masked}
}

// sources are the titles of an entry's source documents: 《a》、《b》.
func (b *Bot) sources(ctx context.Context, e *content.FAQEntry) (string, error) {
	var titles []string
	for _, id := range e.Sources {
		doc, err := b.cfg.Documents.Document(ctx, id)
		if err != nil {
			if errors.Is(err, content.ErrNotFound) {
				continue
			}
			return "", fmt.Errorf("bot: source of %s: %w", e.ID, err)
		}
		titles = append(titles, "《"+doc.Title+"》")
	}
	return strings.Join(titles, "、"), nil
}

func (b *Bot) answerFAQ(ctx context.Context, d Decision, h *retrieval.Hit) (Decision, error) {
	src, err := b.sources(ctx, h.FAQ)
	if err != nil {
		return Decision{}, err
	}
	d.Action, d.Reason, d.FAQ, d.Hit, d.Source = ActionAnswer, ReasonFAQ, h.FAQ, h, src
	return d, nil
}

// maxOptions is how many entries a clarifying question offers at most.
const maxOptions = 3

// nearTies are the FAQ hits of the best one's category within margin of
// its confidence and at least floor (the FAQ threshold), not about
// another document, best first; fewer than two means no tie. A hit close
// to certain (sure) is no tie.
func nearTies(hits []retrieval.Hit, margin, sure, floor float64) []retrieval.Hit {
	if margin <= 0 || len(hits) < 2 || hits[0].FAQ == nil || hits[0].Confidence >= sure {
		return nil
	}
	top := hits[0]
	out := []retrieval.Hit{top}
	for _, h := range hits[1:] {
		if len(out) == maxOptions || h.FAQ == nil || top.Confidence-h.Confidence > margin {
			break
		}
		if h.FAQ.Category == top.FAQ.Category && h.Confidence >= floor && len(h.Other) == 0 {
			out = append(out, h)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// clarify asks the viewer which of the tied entries was meant.
func (b *Bot) clarify(ctx context.Context, d Decision, ties []retrieval.Hit) (Decision, error) {
	d.Action, d.Reason = ActionAnswer, ReasonClarify
	for _, h := range ties {
		src, err := b.sources(ctx, h.FAQ)
		if err != nil {
			return Decision{}, err
		}
		d.Options = append(d.Options, Option{FAQ: h.FAQ, Source: src, Confidence: h.Confidence})
	}
	return d, nil
}

func (b *Bot) answerDoc(d Decision, h *retrieval.Hit) Decision {
	d.Action, d.Reason, d.Hit = ActionAnswer, ReasonDocument, h
	d.Source = h.Chunk.Citation()
	return d
}
