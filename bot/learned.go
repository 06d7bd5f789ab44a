package bot

import (
	"context"
	"crypto/sha256"
	"fmt"

	"govlive/bot/intent"
	"govlive/content"
	"govlive/retrieval"
)

// Questions lists how the knowledge base's FAQ entries are asked: each
// entry's question and similar phrasings. The intent classifier learns
// from them what an ordinary question looks like, beside the lexicon's
// examples of messages that need more than an answer.
type Questions interface {
	Questions() []string
}

var _ Questions = (*retrieval.Index)(nil)

// Intent is the intent classifier's verdict on a message, when it decided:
// the class and its probability.
type Intent struct {
	Class intent.Class `json:"class"`
	P     float64      `json:"p"`
}

// learner is the intent classifier of one lexicon with a digest of what
// it learnt from, so that a lexicon with the same examples and questions
// (a new cue, an edited document) keeps it instead of training again.
type learner struct {
	c      *intent.Classifier // nil: none, the cues decide alone
	digest [sha256.Size]byte
}

// learner returns the intent classifier for the examples ex and the
// knowledge base's questions as they are now: the current one if they
// are what it learnt from, else a new one trained on them. Without
// examples or questions there is none. Training stops with ctx's error
// when ctx is done.
func (b *Bot) learner(ctx context.Context, ex content.Examples) (learner, error) {
	if b.cfg.Questions == nil || ex.Len() == 0 {
		return learner{}, nil
	}
	var all []intent.Example
	for _, l := range []struct {
		class intent.Class
		texts []string
	}{
		{intent.Urgent, ex.Urgent}, {intent.Complaint, ex.Complaint}, {intent.PersonalCase, ex.PersonalCase},
		{intent.HumanRequest, ex.HumanRequest}, {intent.OutOfScope, ex.OutOfScope}, {intent.Chitchat, ex.Chitchat}, {intent.Abuse, ex.Abuse},
		{intent.Question, ex.Question}, {intent.Question, spread(b.cfg.Questions.Questions(), maxQuestions)},
	} {
		for _, t := range l.texts {
			all = append(all, intent.Example{Text: t, Class: l.class})
		}
	}
	h := sha256.New()
	for _, e := range all {
		fmt.Fprintf(h, "%s\x00%s\x00", e.Class, e.Text)
	}
	l := learner{}
	h.Sum(l.digest[:0])
	if cur := b.lex.Load(); cur != nil && cur.intent.c != nil && cur.intent.digest == l.digest {
		return cur.intent, nil
	}
	c, err := intent.Train(ctx, intent.Config{Normalize: b.cfg.Normalizer.Normalize}, all)
	if ctx.Err() != nil {
		return learner{}, fmt.Errorf("train the intent classifier: %w", ctx.Err())
	}
	if err != nil {
		return learner{}, nil // examples of one class only: nothing to tell apart
	}
	l.c = c
	return l, nil
}

// maxQuestions bounds the questions the classifier learns from: enough
// for what an ordinary question looks like, few enough that a large
// knowledge base neither slows training (serve trains before its index is
// ready) nor drowns the examples' classes.
const maxQuestions = 1000

// spread returns at most n of list, evenly spread over it, in order.
func spread(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	out := make([]string, n)
	for i := range out {
		out[i] = list[i*len(list)/n]
	}
	return out
}

// learned decides on what the intent classifier makes of text, where no
// cue decided and Decide would otherwise answer or decline on confidence
// (fc is the best FAQ entry's):
//
//   - abuse is hidden;
//   - a message that likely needs a person (the four classes together at
//     their threshold) is escalated, with the reason the classifier gives
//     (the first of the four in precedence with a good share of their
//     probability: the examples are labelled by the same precedence).
//     Where a FAQ entry would answer, the classifier must be sure: the
//     four together at their stricter threshold, or the reason's class at
//     its own. A plain how-to question stays one: the classifier learnt
//     those from the FAQ's phrasings and the examples' questions;
//   - chit-chat is declined unless a FAQ entry matches well or the message
//     names the center's own matters (terms), as for a chit-chat cue;
//   - a question for someone else (the weather, a pension, a school place:
//     out of scope) is declined on the same terms, and only if no passage
//     (dc) matches well either: the classifier learnt those from the
//     examples against the FAQ's phrasings, and a question the knowledge
//     base clearly answers is never taken from it. Where a FAQ entry would
//     answer, the classifier must be sure (SureOutOfScope), as for a
//     person.
func (b *Bot) learned(lx *compiled, d Decision, text string, fc, dc float64, terms bool) (Decision, bool) {
	c := lx.intent.c
	if c == nil {
		return d, false
	}
	p := c.Predict(text)
	reached := func(cl intent.Class) bool { return p.P(cl) >= c.Threshold(cl) }
	verdict := func(cl intent.Class) *Intent { return &Intent{Class: cl, P: p.P(cl)} }
	switch {
	case reached(intent.Abuse):
		d = b.hide(d, ReasonAbuse, "")
		d.Intent = verdict(intent.Abuse)
		return d, true
	case reached(intent.Person):
		why := p.Reason()
		sure := p.P(intent.Person) >= c.SureThreshold()
		if !sure && fc >= b.cfg.Thresholds.FAQ {
			return d, false
		}
		d = b.escalate(d, Reason(why), "")
		d.Intent = verdict(why)
		return d, true
	case reached(intent.Chitchat) && fc < b.cfg.Thresholds.CueOverride && !terms:
		d.Action, d.Reason = ActionDecline, ReasonChitchat
		d.Intent = verdict(intent.Chitchat)
		return d, true
	case reached(intent.OutOfScope) && (fc < b.cfg.Thresholds.FAQ || p.P(intent.OutOfScope) >= c.SureOutOfScope()) &&
		fc < b.cfg.Thresholds.CueOverride && dc < b.cfg.Thresholds.CueOverride && !terms:
		d.Action, d.Reason = ActionDecline, ReasonOutOfScope
		d.Intent = verdict(intent.OutOfScope)
		return d, true
	}
	return d, false
}
