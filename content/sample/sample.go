// Package sample embeds govlive's sample content pack: a fictional city
// service center's FAQ base and policy documents (the sample knowledge
// base, ids unchanged) and a few sessions that link them. serve imports it
// into an empty store so that a first start comes up with content.
package sample

import "embed"

// FS holds the pack: faq.jsonl, docs/*.md, sessions/*.yaml and lexicon/.
//
//go:embed faq.jsonl docs sessions lexicon
var FS embed.FS
