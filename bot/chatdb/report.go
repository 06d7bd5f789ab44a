package chatdb

import (
	"context"
	"fmt"
	"time"

	"govlive/bot"
	"govlive/content"
)

// Report is what a session's chat says after the fact: read-only figures
// for the editors' session report and review pages.
type Report struct {
	Questions int // viewers' questions (not the bot's replies)
	// PerMinute counts the questions in each minute from the first to
	// the last, gaps included (a minute with none counts 0).
	PerMinute []MinuteCount
	// Decisions counts the questions by the bot's action and reason,
	// most frequent first.
	Decisions []DecisionCount
	Replies   int // the bot's replies
	Up, Down  int // the viewers' ratings of the replies (a level ≥3 is up)
	// Levels counts the replies' ratings by 好差评 level: Levels[0] is
	// 非常不满意 (1) … Levels[4] 非常满意 (5). A 👍/👎 given without a
	// level counts in Up/Down only.
	Levels   [5]int
	Clusters []ClusterFigures
}

// MinuteCount is the number of questions in the minute starting at Minute.
type MinuteCount struct {
	Minute time.Time
	Count  int
}

// DecisionCount is how many questions got one action for one reason.
type DecisionCount struct {
	Action bot.Action
	Reason bot.Reason
	Count  int
}

// ClusterFigures is one cluster with the ratings of the replies to its
// questions.
type ClusterFigures struct {
	bot.Cluster
	Up, Down int
}

// Unanswered reports whether the bot gave the cluster no answer.
func (c ClusterFigures) Unanswered() bool { return c.Action != bot.ActionAnswer }

// LowRated reports whether the replies to the cluster had more down than up ratings.
func (c ClusterFigures) LowRated() bool { return c.Down > 0 && c.Down >= c.Up }

const questionWhere = `session = ? AND reply_to = 0 AND channel <> 'bot'`

// Report reads the figures of session's chat. Clusters are ordered by
// count, then by the latest message (at most 1000).
func (s *Store) Report(ctx context.Context, session content.SessionID) (Report, error) {
	var r Report
	sid := string(session)
	rows, err := s.r.QueryContext(ctx, `SELECT at / 60000, COUNT(*) FROM chat_posts WHERE `+questionWhere+
		` GROUP BY at / 60000 ORDER BY 1`, sid)
	if err != nil {
		return r, fmt.Errorf("chat: report: %w", err)
	}
	var prev int64
	for rows.Next() {
		var m int64
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			rows.Close()
			return r, fmt.Errorf("chat: report: %w", err)
		}
		for len(r.PerMinute) > 0 && prev+1 < m {
			prev++
			r.PerMinute = append(r.PerMinute, MinuteCount{Minute: time.UnixMilli(prev * 60000).UTC()})
		}
		r.PerMinute = append(r.PerMinute, MinuteCount{Minute: time.UnixMilli(m * 60000).UTC(), Count: n})
		r.Questions += n
		prev = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("chat: report: %w", err)
	}

	rows, err = s.r.QueryContext(ctx, `SELECT action, reason, COUNT(*) FROM chat_posts WHERE `+questionWhere+
		` GROUP BY action, reason ORDER BY 3 DESC, 1, 2`, sid)
	if err != nil {
		return r, fmt.Errorf("chat: report: %w", err)
	}
	for rows.Next() {
		var d DecisionCount
		var a, rs string
		if err := rows.Scan(&a, &rs, &d.Count); err != nil {
			rows.Close()
			return r, fmt.Errorf("chat: report: %w", err)
		}
		d.Action, d.Reason = bot.Action(a), bot.Reason(rs)
		r.Decisions = append(r.Decisions, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("chat: report: %w", err)
	}

	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM((SELECT SUM(up) FROM chat_ratings WHERE reply = p.id)), 0),
		COALESCE(SUM((SELECT SUM(1 - up) FROM chat_ratings WHERE reply = p.id)), 0)
		FROM chat_posts p WHERE session = ? AND channel = 'bot'`, sid).Scan(&r.Replies, &r.Up, &r.Down); err != nil {
		return r, fmt.Errorf("chat: report: %w", err)
	}

	rows, err = s.r.QueryContext(ctx, `SELECT g.level, COUNT(*) FROM chat_ratings g JOIN chat_posts p ON p.id = g.reply
		WHERE p.session = ? AND p.channel = 'bot' AND g.level BETWEEN 1 AND 5 GROUP BY g.level`, sid)
	if err != nil {
		return r, fmt.Errorf("chat: report levels: %w", err)
	}
	for rows.Next() {
		var level, n int
		if err := rows.Scan(&level, &n); err != nil {
			rows.Close()
			return r, fmt.Errorf("chat: report levels: %w", err)
		}
		r.Levels[level-1] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("chat: report levels: %w", err)
	}

	cs, err := s.Clusters(ctx, session, time.Time{}, 1000)
	if err != nil {
		return r, err
	}
	rated := map[bot.ClusterID][2]int{}
	rows, err = s.r.QueryContext(ctx, `SELECT q.cluster, SUM(g.up), SUM(1 - g.up) FROM chat_ratings g
		JOIN chat_posts a ON a.id = g.reply JOIN chat_posts q ON q.id = a.reply_to
		WHERE a.session = ? AND q.cluster > 0 GROUP BY q.cluster`, sid)
	if err != nil {
		return r, fmt.Errorf("chat: report ratings: %w", err)
	}
	for rows.Next() {
		var id int64
		var up, down int
		if err := rows.Scan(&id, &up, &down); err != nil {
			rows.Close()
			return r, fmt.Errorf("chat: report ratings: %w", err)
		}
		rated[bot.ClusterID(id)] = [2]int{up, down}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("chat: report ratings: %w", err)
	}
	for _, c := range cs {
		ud := rated[c.ID]
		r.Clusters = append(r.Clusters, ClusterFigures{Cluster: c, Up: ud[0], Down: ud[1]})
	}
	return r, nil
}

// Phrasings returns the distinct texts of the questions of a cluster of
// session (masked, as stored), the most asked first, at most limit
// (default 20).
func (s *Store) Phrasings(ctx context.Context, session content.SessionID, cluster bot.ClusterID, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.r.QueryContext(ctx, `SELECT text FROM chat_posts WHERE `+questionWhere+` AND cluster = ? AND hidden = 0
		GROUP BY text ORDER BY COUNT(*) DESC, MIN(id) LIMIT ?`, string(session), int64(cluster), limit)
	if err != nil {
		return nil, fmt.Errorf("chat: phrasings: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("chat: phrasings: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
