// Package intent learns from example messages what kind of chat message a
// text is: an ordinary question, or one of the kinds that need more than
// an answer — time pressure or danger, a complaint, the viewer's own
// case, a request for a person — or a question for someone else (the
// weather, another office's matter), chit-chat or abuse.
//
// The model is linear over the character n-grams (one to three
// characters) of the normalised text: one squared-hinge SVM per class
// against the rest, trained by dual coordinate descent in a fixed order,
// so that the same examples always give the same model. Its scores become
// probabilities through a softmax whose temperature is fitted on k-fold
// cross-validation of the examples, and a threshold per class is chosen
// on the same cross-validation. The four classes that need a person also
// count together (Person), with two thresholds chosen there for their
// precision as if a given share of the messages needed a person (the
// examples have as many of those as were written): one to take a message
// as needing a person, a stricter one to take it so even where an answer
// is at hand. Which of the four it is, is chosen by their precedence, as
// the examples are labelled. Everything is pure Go; training on a
// thousand examples, cross-validation included, takes about a tenth of a
// second on one core, and a prediction some microseconds.
package intent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Class is a kind of message.
type Class string

// The classes. Question is the neutral one: an ordinary how-to question,
// learnt from the FAQ entries' phrasings.
const (
	Question     Class = "question"
	Urgent       Class = "urgent"
	Complaint    Class = "complaint"
	PersonalCase Class = "personal_case"
	HumanRequest Class = "human_request"
	OutOfScope   Class = "out_of_scope"
	Chitchat     Class = "chitchat"
	Abuse        Class = "abuse"
)

// Classes lists every class, in the order reports list them.
var Classes = []Class{Question, Urgent, Complaint, PersonalCase, HumanRequest, OutOfScope, Chitchat, Abuse}

// Person is not a class of its own but the four that need a person
// together: Urgent, Complaint, PersonalCase and HumanRequest. Its
// probability is theirs added up, and it has a threshold of its own: a
// message may clearly need a person while which of the four it is stays
// unsure.
const Person Class = "person"

// precedence is the order of the classes that need a person when a
// message is more than one: the order of the escalation reasons.
var precedence = []Class{Urgent, Complaint, PersonalCase, HumanRequest}

func needsPerson(c Class) bool {
	return c == Urgent || c == Complaint || c == PersonalCase || c == HumanRequest
}

// Example is one training text with its class.
type Example struct {
	Text  string
	Class Class
}

// Config is how a Classifier is trained.
type Config struct {
	// Normalize folds a text before its n-grams are taken (traditional to
	// simplified characters, full-width to ASCII, punctuation to spaces):
	// retrieval.Normalizer.Normalize. Required.
	Normalize func(string) string
	// C is the SVM's cost of a margin violation; 0 means DefaultC.
	C float64
	// Folds is k of the cross-validation that calibrates the
	// probabilities and chooses the thresholds; 0 means DefaultFolds.
	Folds int
	// Precision is the cross-validated precision each class's threshold
	// is chosen for; 0 means DefaultPrecision.
	Precision float64
	// SurePrecision is the stricter cross-validated precision of
	// Person's second threshold (SureThreshold), at which a message
	// needs a person even where an answer is at hand; 0 means
	// DefaultSurePrecision.
	SurePrecision float64
	// Prior is the share of a chat's messages that need a person, at
	// which Person's thresholds are chosen for their precision; 0 means
	// DefaultPrior, negative the share among the examples.
	Prior float64
}

// The defaults of Config, chosen on cross-validation of the sample pack's
// examples.
const (
	DefaultC         = 3.0
	DefaultFolds     = 5
	DefaultPrecision = 0.9
	// DefaultSurePrecision: of twenty messages taken from an answer for a
	// person, one a plain question.
	DefaultSurePrecision = 0.95
	// DefaultPrior: one message in five needs a person (the sample
	// knowledge base's evaluation questions expect an escalation for
	// about one in seven; a little more, because a threshold chosen for
	// that cost too many of the cases themselves on its folds).
	DefaultPrior = 0.2
)

// posBoost weighs the examples of a class against the rest of them, in
// that class's SVM: each class has a few dozen examples, the questions
// some hundreds.
const posBoost = 2.0

// Threshold bounds: a class decides from one half at least (below, the
// classifier finds it more likely not the class than the class), and a
// class whose cross-validated precision never reaches the target is given
// Never.
const (
	minThreshold = 0.5
	// Never is the threshold of a class that is never decided on.
	Never = 1.01
)

// seed fixes the order in which the solver visits the examples and the
// folds of the cross-validation.
const seed = 20260312

// Errors of Train.
var (
	// ErrNoNormalizer is returned when Config.Normalize is nil.
	ErrNoNormalizer = errors.New("intent: Config needs Normalize")
	// ErrTooFewClasses is returned when the examples name fewer than two
	// classes, or no Question.
	ErrTooFewClasses = errors.New("intent: examples of Question and at least one other class needed")
	// ErrUnknownClass is returned for an example of a class not in Classes.
	ErrUnknownClass = errors.New("intent: unknown class")
)

// Classifier tells the class of a message. It is immutable and safe for
// concurrent use.
type Classifier struct {
	cfg     Config
	classes []Class       // the classes with examples, in Classes order
	index   map[Class]int // class → position in classes
	vocab   vocab
	dim     int
	model   *linear
	temp    float64
	thresh  []float64 // by position in classes, then Person, then SureThreshold
	share   float64   // of Person's probability that makes a class the reason
	person  []bool    // by position in classes: one of those that make up Person
	order   []int     // the positions of those classes, in precedence
	xs      []vector  // the training examples, as vectors
	ys      []int     // their classes, as positions
	texts   []string  // as given, for reports
	report  Report    // of the cross-validation at training
}

// Train learns a Classifier from examples. Examples whose normalised text
// repeats an earlier one are dropped (the first one's class counts).
// Training stops with ctx's error when ctx is done.
func Train(ctx context.Context, cfg Config, examples []Example) (*Classifier, error) {
	if cfg.Normalize == nil {
		return nil, ErrNoNormalizer
	}
	if cfg.C <= 0 {
		cfg.C = DefaultC
	}
	if cfg.Folds < 2 {
		cfg.Folds = DefaultFolds
	}
	if cfg.Precision <= 0 || cfg.Precision > 1 {
		cfg.Precision = DefaultPrecision
	}
	if cfg.Prior == 0 {
		cfg.Prior = DefaultPrior
	}
	if cfg.SurePrecision <= 0 || cfg.SurePrecision > 1 {
		cfg.SurePrecision = max(DefaultSurePrecision, cfg.Precision)
	}
	known := map[Class]bool{}
	for _, c := range Classes {
		known[c] = true
	}
	present := map[Class]bool{}
	type prepared struct {
		grams []uint64
		text  string
		class Class
	}
	var prep []prepared
	seen := map[string]bool{}
	for _, e := range examples {
		if !known[e.Class] {
			return nil, fmt.Errorf("%w %q", ErrUnknownClass, e.Class)
		}
		norm := cfg.Normalize(e.Text)
		if norm == "" || seen[norm] {
			continue
		}
		seen[norm] = true
		present[e.Class] = true
		prep = append(prep, prepared{grams: grams(norm, nil), text: e.Text, class: e.Class})
	}
	if len(present) < 2 || !present[Question] {
		return nil, ErrTooFewClasses
	}
	c := &Classifier{cfg: cfg, index: map[Class]int{}, vocab: vocab{}}
	for _, cl := range Classes {
		if present[cl] {
			c.index[cl] = len(c.classes)
			c.classes = append(c.classes, cl)
			c.person = append(c.person, needsPerson(cl))
		}
	}
	for _, cl := range precedence {
		if i, ok := c.index[cl]; ok {
			c.order = append(c.order, i)
		}
	}
	// The vocabulary is every n-gram of every example; one seen only in
	// a held-out fold keeps a zero weight in that fold's model, so the
	// cross-validation learns nothing from sharing it.
	for _, p := range prep {
		for _, g := range p.grams {
			if _, ok := c.vocab[g]; !ok {
				c.vocab[g] = int32(len(c.vocab))
			}
		}
	}
	c.dim = len(c.vocab)
	for _, p := range prep {
		c.xs = append(c.xs, c.vocab.vectorize(p.grams, nil))
		c.ys = append(c.ys, c.index[p.class])
		c.texts = append(c.texts, p.text)
	}
	cv, err := c.crossValidate(ctx, cfg.Folds)
	if err != nil {
		return nil, err
	}
	c.temp, c.thresh, c.share, c.report = cv.temp, cv.thresh, cv.share, cv.report
	if c.model, err = trainLinear(ctx, c.xs, c.ys, c.dim, len(c.classes), c.params()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Classifier) params() svmParams {
	return svmParams{c: c.cfg.C, eps: 0.01, maxPass: 200, seed: seed, posBoost: posBoost}
}

// Prediction is the probability of each class for one message.
type Prediction struct {
	classes []Class
	p       []float64
	order   []int
	share   float64
}

// Reason returns which of the four classes that need a person the
// message is, should it need one: the first in precedence (Urgent,
// Complaint, PersonalCase, HumanRequest) with the share of their
// probability together that the cross-validation chose, else the most
// probable of them; "" for a classifier without examples of any.
func (p Prediction) Reason() Class {
	if y := reason(p.p, p.order, p.share); y >= 0 {
		return p.classes[y]
	}
	return ""
}

// P returns the probability of class cl (0 for a class the classifier
// has no examples of); for Person, that of its four classes together.
func (p Prediction) P(cl Class) float64 {
	sum := 0.0
	for i, c := range p.classes {
		if c == cl || cl == Person && needsPerson(c) {
			sum += p.p[i]
		}
	}
	return sum
}

// Best returns the most probable class and its probability.
func (p Prediction) Best() (Class, float64) {
	best := 0
	for i := range p.p {
		if p.p[i] > p.p[best] {
			best = i
		}
	}
	return p.classes[best], p.p[best]
}

// Predict returns the class probabilities of text.
func (c *Classifier) Predict(text string) Prediction {
	x := c.vocab.vectorize(grams(c.cfg.Normalize(text), nil), nil)
	s := make([]float64, len(c.classes))
	c.model.scores(x, s)
	softmax(s, c.temp)
	return Prediction{classes: c.classes, p: s, order: c.order, share: c.share}
}

// Threshold returns the probability at or above which class cl (or
// Person) is taken: Never for a class without examples, or one the
// cross-validation found too imprecise.
func (c *Classifier) Threshold(cl Class) float64 {
	if cl == Person {
		return c.thresh[len(c.classes)]
	}
	i, ok := c.index[cl]
	if !ok {
		return Never
	}
	return c.thresh[i]
}

// SureThreshold returns Person's second threshold, at or above which a
// message needs a person even where an answer is at hand: the one the
// cross-validation found for Config.SurePrecision (never below
// Threshold(Person)).
func (c *Classifier) SureThreshold() float64 { return c.thresh[len(c.classes)+1] }

// SureOutOfScope returns OutOfScope's second threshold, at or above
// which a question is one for someone else even where a FAQ entry would
// answer it: the one the cross-validation found for Config.SurePrecision
// (never below Threshold(OutOfScope); Never without such examples).
func (c *Classifier) SureOutOfScope() float64 { return c.thresh[len(c.classes)+2] }

// Temperature returns the softmax temperature fitted at training.
func (c *Classifier) Temperature() float64 { return c.temp }

// Report returns the cross-validation made at training (Config.Folds).
func (c *Classifier) Report() Report { return c.report }

// Examples returns the number of examples trained on, after duplicates
// were dropped.
func (c *Classifier) Examples() int { return len(c.xs) }

// softmax turns scores into probabilities at temperature t, in place.
func softmax(s []float64, t float64) {
	top := slices.Max(s)
	sum := 0.0
	for i, v := range s {
		s[i] = math.Exp((v - top) / t)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}
