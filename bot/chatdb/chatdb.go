// Package chatdb keeps the live chat in SQLite: every post as shown (its
// text masked — the raw text of a viewer's message never reaches this
// package), the bot's replies linked to their questions, same-question
// clusters, answer ratings, mutes, and each session's pinned announcement
// and current segment. It is the storage adapter of bot.Pipeline.
package chatdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/store"
)

// schema is the chat's own migration history.
var schema = []string{
	`CREATE TABLE chat_posts (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		session     TEXT NOT NULL,
		channel     TEXT NOT NULL,
		author_id   TEXT NOT NULL,
		author_nick TEXT NOT NULL,
		at          INTEGER NOT NULL, -- unix milliseconds
		text        TEXT NOT NULL,
		external_id TEXT NOT NULL DEFAULT '',
		action      TEXT NOT NULL DEFAULT '',
		reason      TEXT NOT NULL DEFAULT '',
		confidence  REAL NOT NULL DEFAULT 0,
		hits        TEXT NOT NULL DEFAULT '',
		latency_ms  REAL NOT NULL DEFAULT 0,
		cluster     INTEGER NOT NULL DEFAULT 0,
		case_id     INTEGER NOT NULL DEFAULT 0,
		reply_to    INTEGER NOT NULL DEFAULT 0,
		source      TEXT NOT NULL DEFAULT '',
		quotes      INTEGER NOT NULL DEFAULT 0,
		generated   INTEGER NOT NULL DEFAULT 0,
		hidden      INTEGER NOT NULL DEFAULT 0,
		hidden_by   TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX chat_posts_session ON chat_posts(session, id);
	CREATE INDEX chat_posts_at ON chat_posts(at);
	CREATE INDEX chat_posts_reply_to ON chat_posts(reply_to) WHERE reply_to > 0;
	CREATE TABLE chat_clusters (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		session  TEXT NOT NULL,
		text     TEXT NOT NULL,
		key      TEXT NOT NULL,
		count    INTEGER NOT NULL,
		plus     INTEGER NOT NULL DEFAULT 0,
		first    INTEGER NOT NULL,
		last     INTEGER NOT NULL,
		top      TEXT NOT NULL DEFAULT '',
		action   TEXT NOT NULL DEFAULT '',
		reason   TEXT NOT NULL DEFAULT '',
		reply    INTEGER NOT NULL DEFAULT 0,
		answered INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX chat_clusters_session ON chat_clusters(session, last);
	CREATE TABLE chat_askers (
		cluster INTEGER NOT NULL,
		viewer  TEXT NOT NULL,
		nick    TEXT NOT NULL,
		at      INTEGER NOT NULL,
		PRIMARY KEY (cluster, viewer)
	) WITHOUT ROWID;
	CREATE TABLE chat_ratings (
		reply  INTEGER NOT NULL,
		viewer TEXT NOT NULL,
		up     INTEGER NOT NULL,
		at     INTEGER NOT NULL,
		PRIMARY KEY (reply, viewer)
	);
	CREATE TABLE chat_mutes (
		session TEXT NOT NULL,
		viewer  TEXT NOT NULL,
		nick    TEXT NOT NULL,
		until   INTEGER NOT NULL, -- unix ms; 0 = the whole session
		by      TEXT NOT NULL,
		level   INTEGER NOT NULL,
		active  INTEGER NOT NULL,
		at      INTEGER NOT NULL,
		PRIMARY KEY (session, viewer)
	);
	CREATE TABLE chat_state (
		session TEXT PRIMARY KEY,
		pinned  TEXT NOT NULL DEFAULT '',
		segment INTEGER NOT NULL DEFAULT 0,
		by      TEXT NOT NULL DEFAULT '',
		at      INTEGER NOT NULL
	);`,
	// The 好差评 level (5 非常满意 … 1 非常不满意) of a rating; NULL for
	// a rating given as 👍/👎 only (rows from before this step too).
	`ALTER TABLE chat_ratings ADD COLUMN level INTEGER;`,
}

// Store is the chat log. It is safe for concurrent use.
type Store struct {
	db *sql.DB // the writer
	r  *sql.DB // the read pool
	// The statements of every message, prepared once on the writer.
	insertPost, insertCluster, updateCluster, insertAsker *sql.Stmt
	// The last ids given out: the largest stored (or ever stored: the
	// tables are AUTOINCREMENT) when opened, then counted here. One Store
	// writes a database's chat.
	lastPost, lastCluster atomic.Int64
}

// ErrNotFound is returned for a post of another session or none.
var ErrNotFound = bot.ErrNoMessage

// Open migrates the chat tables in db.
func Open(ctx context.Context, db *store.DB) (*Store, error) {
	err := store.Migrate(ctx, db, "chat", schema)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db.DB, r: db.Read()}
	for _, c := range []struct {
		table string
		last  *atomic.Int64
	}{{"chat_posts", &s.lastPost}, {"chat_clusters", &s.lastCluster}} {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT max(COALESCE((SELECT max(id) FROM `+c.table+`), 0),
			COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))`, c.table).Scan(&n); err != nil {
			return nil, fmt.Errorf("chat: last id of %s: %w", c.table, err)
		}
		c.last.Store(n)
	}
	for _, st := range []struct {
		p   **sql.Stmt
		sql string
	}{
		{&s.insertPost, `INSERT INTO chat_posts
			(id, session, channel, author_id, author_nick, at, text, external_id, action, reason, confidence, hits,
			 latency_ms, cluster, case_id, reply_to, source, quotes, generated, hidden, hidden_by)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&s.insertCluster, `INSERT INTO chat_clusters
			(id, session, text, key, count, plus, first, last, top, action, reason, reply, answered)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&s.updateCluster, `UPDATE chat_clusters SET count = ?, plus = ?, last = ?, reply = ?, answered = ? WHERE id = ?`},
		{&s.insertAsker, `INSERT INTO chat_askers (cluster, viewer, nick, at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`},
	} {
		if *st.p, err = s.db.PrepareContext(ctx, st.sql); err != nil {
			return nil, fmt.Errorf("chat: prepare: %w", err)
		}
	}
	return s, nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	if s := string(b); s != "null" && s != "[]" {
		return s
	}
	return ""
}

// hitsText is the JSON of a post's top hits, written by hand: it is
// stored with every message, and encoding/json's reflection was an eighth
// of the pipeline's time. Anything unusual (an id needing escapes, a score
// that is not a finite number) goes through encoding/json.
func hitsText(hits []bot.HitRef) string {
	if len(hits) == 0 {
		return ""
	}
	b := make([]byte, 0, 48*len(hits))
	b = append(b, '[')
	for i, h := range hits {
		if !plainJSON(h.Kind) || !plainJSON(h.ID) || math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
			return jsonText(hits)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":"`...)
		b = append(b, h.Kind...)
		b = append(b, `","id":"`...)
		b = append(b, h.ID...)
		b = append(b, '"')
		if h.Chunk != 0 {
			b = append(b, `,"chunk":`...)
			b = strconv.AppendInt(b, int64(h.Chunk), 10)
		}
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, h.Score, 'g', -1, 64)
		b = append(b, '}')
	}
	return string(append(b, ']'))
}

// plainJSON reports whether s can stand in a JSON string as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// NewMessageID reserves the id of a post not yet stored. The pipeline
// numbers a message's records before they are written, so that it can go
// on with the next message while they are committed with others.
func (s *Store) NewMessageID() bot.MessageID { return bot.MessageID(s.lastPost.Add(1)) }

// NewClusterID reserves the id of a cluster not yet stored.
func (s *Store) NewClusterID() bot.ClusterID { return bot.ClusterID(s.lastCluster.Add(1)) }

// Save stores in one transaction a viewer's post, the bot's reply to it
// (nil for none; its ReplyTo is set to the post's id) and the cluster the
// post joined (nil for none; a cluster with ID 0 is created). Posts and
// clusters with ID 0 get new ids. Either all of it is stored or none.
func (s *Store) Save(ctx context.Context, p *bot.Post, reply *bot.Post, c *bot.Cluster) error {
	r := bot.Record{Post: p, Reply: reply, Cluster: c}
	r.Number(s.NewMessageID, s.NewClusterID)
	return s.SaveBatch(ctx, []bot.Record{r})
}

// SaveBatch stores the records of several messages in one transaction
// (a group commit): all of them or none. Their ids are set already
// (NewMessageID, NewClusterID); a cluster is inserted when NewCluster is
// set and updated otherwise.
func (s *Store) SaveBatch(ctx context.Context, rs []bot.Record) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("chat: save: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var stmts txStmts
	for _, r := range rs {
		if r.Cluster != nil {
			if err := s.saveCluster(ctx, tx, &stmts, r.Cluster, r.NewCluster); err != nil {
				return err
			}
		}
		for _, p := range []*bot.Post{r.Post, r.Reply} {
			if p == nil {
				continue
			}
			if p.ID == 0 {
				return errors.New("chat: save: a post without an id")
			}
			if err := s.insertPostTx(ctx, tx, &stmts, p); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("chat: save: %w", err)
	}
	return nil
}

// txStmts are the prepared statements bound to one transaction, made
// when first needed.
type txStmts struct{ insertPost, insertCluster, updateCluster, insertAsker *sql.Stmt }

func bind(ctx context.Context, tx *sql.Tx, p **sql.Stmt, st *sql.Stmt) *sql.Stmt {
	if *p == nil {
		*p = tx.StmtContext(ctx, st)
	}
	return *p
}

func (s *Store) insertPostTx(ctx context.Context, tx *sql.Tx, ts *txStmts, p *bot.Post) error {
	var src string
	if p.Source != nil {
		src = jsonText(p.Source)
	}
	_, err := bind(ctx, tx, &ts.insertPost, s.insertPost).ExecContext(ctx, int64(p.ID),
		string(p.Session), string(p.Author.Channel), p.Author.ID, p.Author.Nick, ms(p.Time), p.Text, p.ExternalID,
		string(p.Action), string(p.Reason), p.Confidence, hitsText(p.Hits), p.Latency, int64(p.Cluster), p.Case,
		int64(p.ReplyTo), src, int64(p.Quotes), p.Generated, p.Hidden, p.HiddenBy)
	if err != nil {
		return fmt.Errorf("chat: store message: %w", err)
	}
	return nil
}

func (s *Store) saveCluster(ctx context.Context, tx *sql.Tx, ts *txStmts, c *bot.Cluster, isNew bool) error {
	if isNew {
		var top string
		if c.Top != nil {
			top = jsonText(c.Top)
		}
		_, err := bind(ctx, tx, &ts.insertCluster, s.insertCluster).ExecContext(ctx, int64(c.ID),
			string(c.Session), c.Text, c.Key, c.Count, c.Plus, ms(c.First), ms(c.Last), top,
			string(c.Action), string(c.Reason), int64(c.Reply), ms(c.Answered))
		if err != nil {
			return fmt.Errorf("chat: store cluster: %w", err)
		}
	} else if _, err := bind(ctx, tx, &ts.updateCluster, s.updateCluster).ExecContext(ctx,
		c.Count, c.Plus, ms(c.Last), int64(c.Reply), ms(c.Answered), int64(c.ID)); err != nil {
		return fmt.Errorf("chat: store cluster: %w", err)
	}
	if a := c.Joined; a != nil {
		if _, err := bind(ctx, tx, &ts.insertAsker, s.insertAsker).ExecContext(ctx, int64(c.ID), a.ID, a.Nick, ms(c.Last)); err != nil {
			return fmt.Errorf("chat: store asker: %w", err)
		}
	}
	return nil
}

// SaveCluster stores a cluster's changes (a +1).
func (s *Store) SaveCluster(ctx context.Context, c *bot.Cluster) error {
	return s.SaveBatch(ctx, []bot.Record{{Cluster: c}})
}

// SetCase records the case a post opened or joined.
func (s *Store) SetCase(ctx context.Context, id bot.MessageID, caseID int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE chat_posts SET case_id = ? WHERE id = ?`, caseID, int64(id)); err != nil {
		return fmt.Errorf("chat: link case: %w", err)
	}
	return nil
}

// Hide hides a post of session (by an anchor, or "bot") and returns it.
func (s *Store) Hide(ctx context.Context, session content.SessionID, id bot.MessageID, by string) (bot.Post, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE chat_posts SET hidden = 1, hidden_by = ? WHERE id = ? AND session = ?`,
		by, int64(id), string(session))
	if err != nil {
		return bot.Post{}, fmt.Errorf("chat: hide: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.Post{}, ErrNotFound
	}
	return s.Post(ctx, session, id)
}

const postColumns = `id, session, channel, author_id, author_nick, at, text, external_id, action, reason,
	confidence, hits, latency_ms, cluster, case_id, reply_to, source, quotes, generated, hidden, hidden_by,
	COALESCE((SELECT SUM(up) FROM chat_ratings r WHERE r.reply = chat_posts.id), 0),
	COALESCE((SELECT SUM(1 - up) FROM chat_ratings r WHERE r.reply = chat_posts.id), 0)`

func scanPost(sc interface{ Scan(...any) error }) (bot.Post, error) {
	var p bot.Post
	var session, channel, action, reason, hits, src string
	var at, cluster, replyTo, quotes int64
	var generated, hidden bool
	if err := sc.Scan(&p.ID, &session, &channel, &p.Author.ID, &p.Author.Nick, &at, &p.Text, &p.ExternalID,
		&action, &reason, &p.Confidence, &hits, &p.Latency, &cluster, &p.Case, &replyTo, &src, &quotes,
		&generated, &hidden, &p.HiddenBy, &p.Up, &p.Down); err != nil {
		return p, err
	}
	p.Session, p.Author.Channel = content.SessionID(session), bot.Channel(channel)
	p.Time, p.Action, p.Reason = fromMS(at), bot.Action(action), bot.Reason(reason)
	p.Cluster, p.ReplyTo, p.Quotes = bot.ClusterID(cluster), bot.MessageID(replyTo), bot.MessageID(quotes)
	p.Generated, p.Hidden = generated, hidden
	if hits != "" {
		_ = json.Unmarshal([]byte(hits), &p.Hits)
	}
	if src != "" {
		p.Source = new(bot.SourceRef)
		if json.Unmarshal([]byte(src), p.Source) != nil {
			p.Source = nil
		}
	}
	return p, nil
}

// Post returns one post of session.
func (s *Store) Post(ctx context.Context, session content.SessionID, id bot.MessageID) (bot.Post, error) {
	p, err := scanPost(s.db.QueryRowContext(ctx, `SELECT `+postColumns+` FROM chat_posts WHERE id = ? AND session = ?`,
		int64(id), string(session)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("chat: read message: %w", err)
	}
	return p, nil
}

// Posts returns the posts of session that pass f, oldest first. With
// neither After nor Before, it returns the latest Limit posts.
func (s *Store) Posts(ctx context.Context, session content.SessionID, f bot.PostFilter) ([]bot.Post, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	where := []string{"session = ?"}
	args := []any{string(session)}
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.After > 0 {
		add("id > ?", int64(f.After))
	}
	if f.Before > 0 {
		add("id < ?", int64(f.Before))
	}
	if f.Public {
		where = append(where, "hidden = 0")
	}
	if f.Questions {
		where = append(where, "reply_to = 0 AND channel <> 'bot'")
	}
	if f.Action != "" {
		add("action = ?", string(f.Action))
	}
	if f.Reason != "" {
		add("reason = ?", string(f.Reason))
	}
	if f.Viewer != "" {
		add("author_id = ?", f.Viewer)
	}
	if f.Cluster != 0 {
		add("cluster = ?", int64(f.Cluster))
	}
	order := "DESC"
	if f.After > 0 {
		order = "ASC"
	}
	q := `SELECT ` + postColumns + ` FROM chat_posts WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id ` + order + ` LIMIT ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("chat: list messages: %w", err)
	}
	defer rows.Close()
	var out []bot.Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, fmt.Errorf("chat: list messages: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat: list messages: %w", err)
	}
	if order == "DESC" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

const clusterColumns = `id, session, text, key, count, plus, first, last, top, action, reason, reply, answered`

func scanCluster(sc interface{ Scan(...any) error }) (bot.Cluster, error) {
	var c bot.Cluster
	var session, top, action, reason string
	var first, last, reply, answered int64
	if err := sc.Scan(&c.ID, &session, &c.Text, &c.Key, &c.Count, &c.Plus, &first, &last, &top,
		&action, &reason, &reply, &answered); err != nil {
		return c, err
	}
	c.Session, c.First, c.Last = content.SessionID(session), fromMS(first), fromMS(last)
	c.Action, c.Reason, c.Reply, c.Answered = bot.Action(action), bot.Reason(reason), bot.MessageID(reply), fromMS(answered)
	if top != "" {
		c.Top = new(bot.HitRef)
		if json.Unmarshal([]byte(top), c.Top) != nil {
			c.Top = nil
		}
	}
	return c, nil
}

// Cluster returns one cluster of session.
func (s *Store) Cluster(ctx context.Context, session content.SessionID, id bot.ClusterID) (bot.Cluster, error) {
	c, err := scanCluster(s.db.QueryRowContext(ctx, `SELECT `+clusterColumns+` FROM chat_clusters WHERE id = ? AND session = ?`,
		int64(id), string(session)))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("chat: read cluster: %w", err)
	}
	cs := []bot.Cluster{c}
	err = s.askers(ctx, s.db, cs)
	return cs[0], err
}

// askers fills in the askers of cs, in the order they came.
func (s *Store) askers(ctx context.Context, q *sql.DB, cs []bot.Cluster) error {
	if len(cs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(cs))
	ids := make([]string, len(cs))
	for i, c := range cs {
		idx[int64(c.ID)] = i
		ids[i] = fmt.Sprint(int64(c.ID))
	}
	rows, err := q.QueryContext(ctx, `SELECT cluster, viewer, nick FROM chat_askers WHERE cluster IN (`+
		strings.Join(ids, ",")+`) ORDER BY at`)
	if err != nil {
		return fmt.Errorf("chat: read askers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a bot.Sender
		if err := rows.Scan(&id, &a.ID, &a.Nick); err != nil {
			return fmt.Errorf("chat: read askers: %w", err)
		}
		i := idx[id]
		cs[i].Askers = append(cs[i].Askers, a)
	}
	return rows.Err()
}

// Clusters returns the clusters of session active since since (the zero
// time: all), ordered by count, then by the latest message: the question
// board. At most limit (default 100).
func (s *Store) Clusters(ctx context.Context, session content.SessionID, since time.Time, limit int) ([]bot.Cluster, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+clusterColumns+` FROM chat_clusters
		WHERE session = ? AND last >= ? ORDER BY count DESC, last DESC LIMIT ?`, string(session), ms(since), min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("chat: list clusters: %w", err)
	}
	defer rows.Close()
	var out []bot.Cluster
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, fmt.Errorf("chat: list clusters: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat: list clusters: %w", err)
	}
	rows.Close()
	return out, s.askers(ctx, s.r, out)
}

// Rate records viewer's rating of a bot reply of session (one a viewer; a
// new one replaces it) and returns the reply's counts. level is the
// 好差评 level 1–5, or 0 for a 👍/👎 without one; a level decides up
// (≥3 is up).
func (s *Store) Rate(ctx context.Context, session content.SessionID, reply bot.MessageID, viewer string, up bool, level int, at time.Time) (ups, downs int, err error) {
	if level < 0 || level > 5 {
		return 0, 0, fmt.Errorf("chat: rate: level %d: %w", level, bot.ErrBadLevel)
	}
	var lv any
	if level > 0 {
		up, lv = level >= 3, level
	}
	var ch string
	err = s.db.QueryRowContext(ctx, `SELECT channel FROM chat_posts WHERE id = ? AND session = ?`, int64(reply), string(session)).Scan(&ch)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && ch != string(bot.ChannelBot)) {
		return 0, 0, ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("chat: rate: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chat_ratings (reply, viewer, up, level, at) VALUES (?,?,?,?,?)
		ON CONFLICT (reply, viewer) DO UPDATE SET up = excluded.up, level = excluded.level, at = excluded.at`,
		int64(reply), viewer, up, lv, ms(at)); err != nil {
		return 0, 0, fmt.Errorf("chat: rate: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(up),0), COALESCE(SUM(1-up),0) FROM chat_ratings WHERE reply = ?`,
		int64(reply)).Scan(&ups, &downs)
	if err != nil {
		return 0, 0, fmt.Errorf("chat: rate: %w", err)
	}
	return ups, downs, nil
}

// ViewerLevels returns the 好差评 levels viewer gave the bot replies of
// session, by reply (ratings without a level are left out; at most the
// latest 1000).
func (s *Store) ViewerLevels(ctx context.Context, session content.SessionID, viewer string) (map[bot.MessageID]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT g.reply, g.level FROM chat_ratings g JOIN chat_posts p ON p.id = g.reply
		WHERE p.session = ? AND g.viewer = ? AND g.level BETWEEN 1 AND 5 ORDER BY g.reply DESC LIMIT 1000`,
		string(session), viewer)
	if err != nil {
		return nil, fmt.Errorf("chat: viewer levels: %w", err)
	}
	defer rows.Close()
	out := map[bot.MessageID]int{}
	for rows.Next() {
		var id int64
		var level int
		if err := rows.Scan(&id, &level); err != nil {
			return nil, fmt.Errorf("chat: viewer levels: %w", err)
		}
		out[bot.MessageID(id)] = level
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat: viewer levels: %w", err)
	}
	return out, nil
}

// SaveMute stores a viewer's mute state in session.
func (s *Store) SaveMute(ctx context.Context, session content.SessionID, m bot.Mute, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chat_mutes (session, viewer, nick, until, by, level, active, at)
		VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (session, viewer) DO UPDATE SET nick = excluded.nick,
		until = excluded.until, by = excluded.by, level = excluded.level, active = excluded.active, at = excluded.at`,
		string(session), m.Viewer, m.Nick, ms(m.Until), m.By, m.Level, m.Active, ms(at)); err != nil {
		return fmt.Errorf("chat: store mute: %w", err)
	}
	return nil
}

// Mutes returns the mutes of session (active or not: the level counts).
func (s *Store) Mutes(ctx context.Context, session content.SessionID) ([]bot.Mute, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT viewer, nick, until, by, level, active FROM chat_mutes WHERE session = ?`, string(session))
	if err != nil {
		return nil, fmt.Errorf("chat: read mutes: %w", err)
	}
	defer rows.Close()
	var out []bot.Mute
	for rows.Next() {
		var m bot.Mute
		var until int64
		if err := rows.Scan(&m.Viewer, &m.Nick, &until, &m.By, &m.Level, &m.Active); err != nil {
			return nil, fmt.Errorf("chat: read mutes: %w", err)
		}
		m.Until = fromMS(until)
		out = append(out, m)
	}
	return out, rows.Err()
}

// SaveState stores a session's pinned announcement and current segment.
func (s *Store) SaveState(ctx context.Context, session content.SessionID, st bot.SessionState, by string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chat_state (session, pinned, segment, by, at) VALUES (?,?,?,?,?)
		ON CONFLICT (session) DO UPDATE SET pinned = excluded.pinned, segment = excluded.segment, by = excluded.by, at = excluded.at`,
		string(session), st.Pinned, st.Segment, by, ms(at)); err != nil {
		return fmt.Errorf("chat: store session state: %w", err)
	}
	return nil
}

// State returns a session's pinned announcement and current segment.
func (s *Store) State(ctx context.Context, session content.SessionID) (bot.SessionState, error) {
	var st bot.SessionState
	err := s.r.QueryRowContext(ctx, `SELECT pinned, segment FROM chat_state WHERE session = ?`, string(session)).Scan(&st.Pinned, &st.Segment)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("chat: read session state: %w", err)
	}
	return st, nil
}

// Purge deletes the posts, clusters and ratings older than before and
// returns how many posts went.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("chat: purge: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	cut := ms(before)
	if _, err := tx.ExecContext(ctx, `DELETE FROM chat_ratings WHERE reply IN (SELECT id FROM chat_posts WHERE at < ?)`, cut); err != nil {
		return 0, fmt.Errorf("chat: purge ratings: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM chat_posts WHERE at < ?`, cut)
	if err != nil {
		return 0, fmt.Errorf("chat: purge messages: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM chat_askers WHERE cluster IN (SELECT id FROM chat_clusters WHERE last < ?)`, cut); err != nil {
		return 0, fmt.Errorf("chat: purge askers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chat_clusters WHERE last < ?`, cut); err != nil {
		return 0, fmt.Errorf("chat: purge clusters: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("chat: purge: %w", err)
	}
	return n, nil
}
