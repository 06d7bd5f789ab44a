// Package retrieval is govlive's knowledge index: Chinese normalisation
// (traditional → simplified, width, numerals), chunking of policy
// documents along their own structure, a lexical index (bleve, CJK bigrams
// and unigrams), vectors through an Embedder and a VectorStore, and hybrid
// search that fuses the two and scopes it to the current session segment.
package retrieval
