// Package cases provides live assisted handling (直播帮办): the cases the
// bot opens when a viewer's question needs a person, the anchors' moves
// that take a case through its states (claimed, on air, resolved or
// referred), each recorded with its actor and time, and the viewer's
// satisfaction rating on the national 好差评 scale.
//
// The bot only opens cases (Store.Open); every other change comes from the
// anchors' API.
package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ID numbers the cases of all sessions, in the order they were opened.
type ID int64

// State is where a case stands.
type State string

// The states. A case opens in StateOpen; StateResolved and StateReferred
// are final (only a rating changes such a case).
const (
	StateOpen     State = "open"     // waiting for an anchor
	StateClaimed  State = "claimed"  // an anchor took it
	StateOnAir    State = "on_air"   // being handled live
	StateResolved State = "resolved" // handled
	StateReferred State = "referred" // handed to a window or a department
)

// States lists every state, in the order a case goes through them.
var States = []State{StateOpen, StateClaimed, StateOnAir, StateResolved, StateReferred}

var stateLabels = map[State]string{
	StateOpen:     "待认领",
	StateClaimed:  "已认领",
	StateOnAir:    "直播办理中",
	StateResolved: "已解决",
	StateReferred: "已转办",
}

// Label is the state's Chinese name, as anchors see it.
func (s State) Label() string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether s is one of the states.
func (s State) Valid() bool { _, ok := stateLabels[s]; return ok }

// Active reports whether a case in state s still waits for handling:
// a viewer's new messages join such a case.
func (s State) Active() bool { return s == StateOpen || s == StateClaimed || s == StateOnAir }

// Viewer is who asked: the anonymous id the chat adapter derives and the
// nickname; viewers have no account.
type Viewer struct {
	ID   string `json:"id"`
	Nick string `json:"nick"`
}

// Rating is a viewer's satisfaction on the national 好差评 five-level
// scale, 5 (非常满意) down to 1 (非常不满意). In JSON it is the number; it
// also reads the Chinese label.
type Rating int

// The five levels.
const (
	VeryDissatisfied   Rating = 1 // 非常不满意
	Dissatisfied       Rating = 2 // 不满意
	BasicallySatisfied Rating = 3 // 基本满意
	Satisfied          Rating = 4 // 满意
	VerySatisfied      Rating = 5 // 非常满意
)

var ratingLabels = [...]string{"", "非常不满意", "不满意", "基本满意", "满意", "非常满意"}

// Valid reports whether r is one of the five levels.
func (r Rating) Valid() bool { return r >= VeryDissatisfied && r <= VerySatisfied }

// String is the level's Chinese label.
func (r Rating) String() string {
	if !r.Valid() {
		return "Rating(" + strconv.Itoa(int(r)) + ")"
	}
	return ratingLabels[r]
}

// ParseRating reads a rating from its number ("1".."5") or its label
// ("非常满意" … "非常不满意"); anything else is an error wrapping ErrInvalid.
func ParseRating(s string) (Rating, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && Rating(n).Valid() {
		return Rating(n), nil
	}
	for r := VeryDissatisfied; r <= VerySatisfied; r++ {
		if s == ratingLabels[r] {
			return r, nil
		}
	}
	return 0, fmt.Errorf("rating %q: %w: want 1 to 5 or a label of the 好差评 scale", s, ErrInvalid)
}

// UnmarshalJSON reads a number (5) or a string holding the number or the
// label ("5", "非常满意").
func (r *Rating) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if !Rating(n).Valid() {
			return fmt.Errorf("rating %d: %w: want 1 to 5", n, ErrInvalid)
		}
		*r = Rating(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("rating: %w: want a number or a label", ErrInvalid)
	}
	v, err := ParseRating(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Transition is one row of a case's history: a change of state, or (From
// equal to To, Rating set) a rating. The first row of every case is its
// opening: From empty, To StateOpen, Actor ActorBot.
type Transition struct {
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	Actor  string    `json:"actor"`
	Note   string    `json:"note,omitempty"`
	Rating *Rating   `json:"rating,omitempty"`
	At     time.Time `json:"at"`
}

// ActorBot is the actor of a case's opening.
const ActorBot = "bot"

// Case is one viewer's matter taken into assisted handling.
type Case struct {
	ID      ID     `json:"id"`
	Session string `json:"session"`
	// Reason is why the bot escalated: "pii", "urgent", "complaint",
	// "personal_case", "human_request", "low_confidence".
	Reason   string `json:"reason"`
	Question string `json:"question"` // the first message, masked
	Cluster  int64  `json:"cluster,omitempty"`
	Viewer   Viewer `json:"viewer"`
	// Messages are the chat message ids that opened or joined the case,
	// in the order they came.
	Messages   []int64      `json:"messages"`
	State      State        `json:"state"`
	Anchor     string       `json:"anchor,omitempty"` // who claimed it
	ReferredTo string       `json:"referred_to,omitempty"`
	Note       string       `json:"note,omitempty"` // of the resolution or the referral
	Rating     *Rating      `json:"rating,omitempty"`
	RatingNote string       `json:"rating_note,omitempty"`
	Opened     time.Time    `json:"opened"`
	Updated    time.Time    `json:"updated"`
	History    []Transition `json:"history"`
}

// Opening is what the bot knows when it escalates a message.
type Opening struct {
	Session  string
	Reason   string
	Question string // masked
	Cluster  int64
	Message  int64 // the chat message id; 0 when there is none
	Viewer   Viewer
}

// ErrNotFound is returned for a case id that does not exist.
var ErrNotFound = errors.New("no such case")

// ErrIllegal is wrapped by the *IllegalError returned when a change does
// not apply to the case's current state (the HTTP layer answers 409).
var ErrIllegal = errors.New("illegal case transition")

// ErrInvalid is wrapped by the errors for malformed input: an opening
// without session or viewer, an empty actor or referral target, a rating
// off the scale.
var ErrInvalid = errors.New("invalid case input")

// IllegalError says which change a case in State refused. To is the state
// the change would have led to, empty when the change was a rating.
// Its message is Chinese, fit to show an anchor.
type IllegalError struct {
	Case  ID
	State State
	To    State
}

func (e *IllegalError) Error() string {
	if e.To == "" {
		return fmt.Sprintf("帮办事项 %d 当前为“%s”，办结或转办后才能评价", e.Case, e.State.Label())
	}
	return fmt.Sprintf("帮办事项 %d 当前为“%s”，不能改为“%s”", e.Case, e.State.Label(), e.To.Label())
}

// Unwrap makes errors.Is(err, ErrIllegal) hold.
func (e *IllegalError) Unwrap() error { return ErrIllegal }
