package bot

import (
	"fmt"
	"strings"

	"govlive/content"
)

// maxPassage bounds a quoted passage in a chat reply.
const maxPassage = 300

// ReplyText is the bot's reply to a decision, in the words of rep (the
// lexicon's replies file): the standard answer with its source, the
// quoted passage of a document, what an escalation or a decline tells the
// viewer; "" for a hidden message. Decide chooses, the reply texts are
// content: the chat pipeline sends this (unless it points to a reply the
// same question got just before, or a model writes a document answer),
// and ask shows it.
func ReplyText(d Decision, rep content.Replies) string {
	switch d.Action {
	case ActionAnswer:
		switch {
		case d.Reason == ReasonClarify:
			var b strings.Builder
			for i, o := range d.Options {
				if i > 0 {
					b.WriteByte('\n')
				}
				fmt.Fprintf(&b, "%d. %s", i+1, o.FAQ.Question)
			}
			return content.Fill(rep.Clarify, "options", b.String())
		case d.Reason == ReasonFAQ && d.FAQ != nil:
			if d.Source == "" {
				return d.FAQ.Answer
			}
			return d.FAQ.Answer + "\n" + content.Fill(rep.FAQSource, "source", d.Source)
		case d.Hit != nil && d.Hit.Chunk != nil:
			return extractive(d, rep)
		}
	case ActionEscalate:
		return rep.Escalate[string(d.Reason)]
	case ActionDecline:
		if d.Reason == ReasonChitchat && d.Cue == "" && d.Search == nil {
			return rep.Empty // nothing to answer: an empty message, or only symbols
		}
		return rep.Decline[string(d.Reason)]
	}
	return ""
}

// extractive is the quoted-passage reply of a document answer.
func extractive(d Decision, rep content.Replies) string {
	passage := plainText(d.Hit.Chunk.Text)
	if rs := []rune(passage); len(rs) > maxPassage {
		passage = string(rs[:maxPassage]) + "……"
	}
	return content.Fill(rep.Document, "source", d.Hit.Chunk.Citation(), "passage", passage)
}
