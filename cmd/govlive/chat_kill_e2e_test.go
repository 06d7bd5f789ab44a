package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestChatSurvivesKill: every message the chat acknowledged is there after
// serve is killed (SIGKILL, no shutdown at all) right after the last
// acknowledgement, and the next serve carries on numbering after them.
func TestChatSurvivesKill(t *testing.T) {
	data := t.TempDir()
	proc := startServeProcess(t, data)
	first := &serveProc{url: proc.url, client: &http.Client{Timeout: 5 * time.Second}}
	waitReady(t, first)

	// Four viewers send four questions each, all at once (within the rate
	// limit), and wait for their acknowledgements.
	questions := []string{"新办食品经营许可要什么材料", "食品经营许可证多久能办好", "出租车驾驶员证怎么考", "证照可以免费邮寄吗"}
	var viewers []*chatClient
	for v := range 4 {
		viewers = append(viewers, dialChat(t, first, "demo", fmt.Sprintf("观众%d", v), fmt.Sprintf("key-%d", v), ""))
	}
	for v, c := range viewers {
		for i, q := range questions {
			c.send(map[string]any{"type": "say", "text": fmt.Sprintf("%s（%d-%d）", q, v, i), "ref": fmt.Sprint(i)})
		}
	}
	acked := map[int64]bool{}
	for _, c := range viewers {
		for range questions {
			f := c.next(func(f chatFrame) bool { return f.Type == "ack" })
			if f.ID == 0 {
				t.Fatalf("not accepted: %+v", f)
			}
			acked[f.ID] = true
		}
	}
	if len(acked) != len(viewers)*len(questions) {
		t.Fatalf("%d messages acknowledged, want %d", len(acked), len(viewers)*len(questions))
	}
	proc.kill(t)

	p := startServe(t, data)
	waitReady(t, p)
	var hist struct {
		Posts []chatPost `json:"posts"`
	}
	p.get(t, "/api/sessions/demo/chat?limit=100", http.StatusOK, &hist)
	stored := map[int64]bool{}
	var maxID int64
	for _, post := range hist.Posts {
		stored[post.ID] = true
		maxID = max(maxID, post.ID)
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("message %d was acknowledged before the kill and is gone after it", id)
		}
	}
	c := dialChat(t, p, "demo", "新观众", "key-new", "")
	c.send(map[string]any{"type": "say", "text": "周末可以办理吗", "ref": "x"})
	q, _ := c.replyTo("周末可以办理吗")
	if q.ID <= maxID {
		t.Errorf("after the restart a new message got id %d, not after the last stored %d", q.ID, maxID)
	}
}
