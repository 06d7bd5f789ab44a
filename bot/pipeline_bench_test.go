package bot_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"govlive/bot"
)

// busyStream is a message mix like a busy livestream's chat: 60 %
// questions with heavy repetition (a few popular questions asked in
// slightly different words), 10 % chit-chat, some one-off questions,
// spam and personal data sprinkled in.
func busyStream(rng *rand.Rand) string {
	popular := []string{
		"新办食品经营许可证需要准备哪些材料", "新办食品经营许可证需要准备哪些材料？", "食品经营许可证要几天能拿到",
		"食品证多久能下来", "出租车驾驶员证怎么考", "网约车驾驶员证要什么条件", "办好的证能不能免费寄到家",
		"中心几点下班", "周末可以办理吗", "对窗口服务不满意怎么投诉",
	}
	switch n := rng.IntN(100); {
	case n < 60:
		return popular[rng.IntN(len(popular))]
	case n < 70:
		return []string{"主播好", "哈哈哈", "来了来了", "666", "主播辛苦了"}[rng.IntN(5)]
	case n < 90:
		return fmt.Sprintf("请问第%d号窗口能办食品经营许可延续吗", rng.IntN(30))
	case n < 95:
		return fmt.Sprintf("加微信 vx%d 代办各类证件", rng.IntN(100000))
	default:
		return fmt.Sprintf("我的手机号是139%08d，帮我查下食品许可进度", rng.IntN(100000000))
	}
}

// tally counts the events published.
type tally struct{ n atomic.Int64 }

func (t *tally) Publish(bot.Event) { t.n.Add(1) }

// BenchmarkPipeline measures messages through the whole pipeline (no
// model), stored in SQLite, with 2,000 viewers in one session:
//   - senders=1: one at a time, each waiting for the disk alone;
//   - senders=64: as fast as 64 senders can, as the web chat's connections
//     send them (messages queued behind each other share a commit);
//   - rate=5000: 5,000 messages a second offered on a schedule by 64
//     senders, each message's latency counted from when it was due (so a
//     stall is not hidden by senders that wait for it).
//
// Run it on one core:
//
//	taskset -c 0 go test -run '^$' -bench Pipeline -benchtime 20000x ./bot/
func BenchmarkPipeline(b *testing.B) {
	b.Run("senders=1", func(b *testing.B) { benchPipeline(b, 1, 0) })
	b.Run("senders=64", func(b *testing.B) { benchPipeline(b, 64, 0) })
	b.Run("rate=5000", func(b *testing.B) { benchPipeline(b, 64, 5000) })
}

// benchPipeline sends b.N messages from senders goroutines, as fast as
// they can or, with rate > 0, each one when it is due.
func benchPipeline(b *testing.B, senders, rate int) {
	s := newStack(b, bot.Thresholds{})
	// Events go to a tally, not the tests' recorder (which encodes and
	// keeps every event): the hub's Publish is a channel send, and its
	// fan-out has a benchmark of its own (bot/webchat BenchmarkHub2000).
	events := &tally{}
	r := newChatRig(b, s, func(c *bot.PipelineConfig) { c.RateBurst = 1 << 30; c.Publish = events })
	defer r.stop()
	rng := rand.New(rand.NewPCG(7, 7))
	msgs := make([]bot.Inbound, 4096)
	for i := range msgs {
		who := fmt.Sprintf("w-%04d", rng.IntN(2000))
		msgs[i] = bot.Inbound{Session: "bench", Sender: bot.Sender{Channel: bot.ChannelWeb, ID: who, Nick: who}, Text: busyStream(rng)}
	}
	ctx := context.Background()
	// Warm up: the first messages search; later ones mostly join clusters.
	for i := range 200 {
		if _, err := r.p.Submit(ctx, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if i%500 == 0 {
					r.advance(time.Second) // 500 messages a second of stream time
				}
				t := time.Now()
				if rate > 0 {
					t = start.Add(time.Duration(i) * time.Second / time.Duration(rate))
					time.Sleep(time.Until(t))
				}
				if _, err := r.p.Submit(ctx, msgs[i%len(msgs)]); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(events.n.Load())/float64(b.N+200), "events/msg")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
