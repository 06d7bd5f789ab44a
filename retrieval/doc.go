// Package retrieval is govlive's knowledge index: Chinese normalisation
// (traditional → simplified, width, numerals), chunking of policy
// documents along their own structure, a lexical index (bleve, CJK bigrams
// and unigrams), vectors through an Embedder and a VectorStore, and hybrid
// search that fuses the two and scopes it to the current session segment.
// Beside the scores, a result names the question's salient words (package
// words) that no text of the knowledge base, or a hit, contains: a sign
// that the question is about another matter.
package retrieval
