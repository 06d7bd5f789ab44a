package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"govlive/bot"
	"govlive/stream/record"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// config is every setting of govlive. It is filled in this order, each
// step overriding the one before: defaults → the config file (--config or
// GOVLIVE_CONFIG; YAML or TOML; unknown keys are an error) → environment
// variables GOVLIVE_* → command-line flags; then checked by validate.
type config struct {
	Data            string   `yaml:"data" toml:"data"`
	Addr            string   `yaml:"addr" toml:"addr"`
	TLSCert         string   `yaml:"tls_cert" toml:"tls_cert"`
	TLSKey          string   `yaml:"tls_key" toml:"tls_key"`
	LogLevel        string   `yaml:"log_level" toml:"log_level"`
	LogFormat       string   `yaml:"log_format" toml:"log_format"`
	Sample          bool     `yaml:"sample" toml:"sample"`
	ShutdownTimeout duration `yaml:"shutdown_timeout" toml:"shutdown_timeout"`

	// The search stack: an OpenAI-compatible embedding endpoint (none:
	// lexical search only) and where vectors live.
	EmbedURL         string   `yaml:"embed_url" toml:"embed_url"`
	EmbedModel       string   `yaml:"embed_model" toml:"embed_model"`
	EmbedKey         string   `yaml:"embed_key" toml:"embed_key"`
	EmbedDimensions  int      `yaml:"embed_dimensions" toml:"embed_dimensions"`
	EmbedTimeout     duration `yaml:"embed_timeout" toml:"embed_timeout"`
	Vectors          string   `yaml:"vectors" toml:"vectors"`
	QdrantAddr       string   `yaml:"qdrant_addr" toml:"qdrant_addr"`
	QdrantKey        string   `yaml:"qdrant_key" toml:"qdrant_key"`
	QdrantTLS        bool     `yaml:"qdrant_tls" toml:"qdrant_tls"`
	QdrantCollection string   `yaml:"qdrant_collection" toml:"qdrant_collection"`

	// The relay (see stream.Config).
	UDPPort        int    `yaml:"udp_port" toml:"udp_port"`
	TCPPort        int    `yaml:"tcp_port" toml:"tcp_port"`
	PublicIP       string `yaml:"public_ip" toml:"public_ip"`
	ICEServers     string `yaml:"ice_servers" toml:"ice_servers"`
	TURNUsername   string `yaml:"turn_username" toml:"turn_username"`
	TURNCredential string `yaml:"turn_credential" toml:"turn_credential"`
	ICELoopback    bool   `yaml:"ice_loopback" toml:"ice_loopback"`
	Slots          int    `yaml:"slots" toml:"slots"`
	MaxViewers     int    `yaml:"max_viewers" toml:"max_viewers"`
	Origin         string `yaml:"origin" toml:"origin"`
	Demo           bool   `yaml:"demo" toml:"demo"`
	Record         bool   `yaml:"record" toml:"record"`

	// What is kept of the recordings (see record.JanitorConfig).
	RecordRetention int       `yaml:"record_retention" toml:"record_retention"` // days
	RecordBudget    byteSize  `yaml:"record_budget" toml:"record_budget"`
	RecordMinFree   freeSpace `yaml:"record_min_free" toml:"record_min_free"`

	// The live chat (see bot.PipelineConfig) and its adapters.
	ChatWindow      duration `yaml:"chat_window" toml:"chat_window"`
	ChatRetention   int      `yaml:"chat_retention" toml:"chat_retention"` // days
	LLMURL          string   `yaml:"llm_url" toml:"llm_url"`
	LLMModel        string   `yaml:"llm_model" toml:"llm_model"`
	LLMKey          string   `yaml:"llm_key" toml:"llm_key"`
	LLMDeadline     duration `yaml:"llm_deadline" toml:"llm_deadline"`
	DiscordToken    string   `yaml:"discord_token" toml:"discord_token"`
	DiscordChannels string   `yaml:"discord_channels" toml:"discord_channels"` // CHANNEL=SESSION,...
	DiscordAPI      string   `yaml:"discord_api" toml:"discord_api"`

	// The answer decision (see bot.Thresholds).
	ThresholdFAQ           float `yaml:"threshold_faq" toml:"threshold_faq"`
	ThresholdDoc           float `yaml:"threshold_doc" toml:"threshold_doc"`
	ThresholdDocMargin     float `yaml:"threshold_doc_margin" toml:"threshold_doc_margin"`
	ThresholdDocBeyond     float `yaml:"threshold_doc_beyond" toml:"threshold_doc_beyond"`
	ClarifyMargin          float `yaml:"clarify_margin" toml:"clarify_margin"`
	ClarifySure            float `yaml:"clarify_sure" toml:"clarify_sure"`
	ThresholdScope         float `yaml:"threshold_scope" toml:"threshold_scope"`
	ThresholdCueOverride   float `yaml:"threshold_cue_override" toml:"threshold_cue_override"`
	ThresholdTopicOverride float `yaml:"threshold_topic_override" toml:"threshold_topic_override"`
}

func defaultConfig() config {
	return config{
		Data:            "./govlive-data",
		Addr:            "127.0.0.1:8080",
		LogLevel:        "info",
		LogFormat:       "text",
		Sample:          true,
		ShutdownTimeout: duration(10 * time.Second),

		EmbedTimeout:     duration(30 * time.Second),
		Vectors:          "embedded",
		QdrantAddr:       "127.0.0.1:6334",
		QdrantCollection: "govlive",

		Slots:  4,
		Record: true,
		Demo:   true,

		RecordRetention: 90,
		RecordMinFree:   freeSpace{percent: 5},

		ChatWindow:    duration(2 * time.Minute),
		ChatRetention: 180,
		LLMDeadline:   duration(3 * time.Second),

		ThresholdFAQ:           float(bot.DefaultThresholds.FAQ),
		ThresholdDoc:           float(bot.DefaultThresholds.Doc),
		ThresholdDocMargin:     float(bot.DefaultThresholds.DocMargin),
		ThresholdDocBeyond:     float(bot.DefaultThresholds.DocBeyond),
		ClarifyMargin:          float(bot.DefaultThresholds.ClarifyMargin),
		ClarifySure:            float(bot.DefaultThresholds.ClarifySure),
		ThresholdScope:         float(bot.DefaultThresholds.Scope),
		ThresholdCueOverride:   float(bot.DefaultThresholds.CueOverride),
		ThresholdTopicOverride: float(bot.DefaultThresholds.TopicOverride),
	}
}

// float is a number setting.
type float float64

type floatField struct{ p *float }

func (f floatField) Set(v string) error {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*f.p = float(x)
	return nil
}
func (f floatField) String() string { return strconv.FormatFloat(float64(*f.p), 'g', -1, 64) }

type intField struct{ p *int }

func (f intField) Set(v string) error {
	x, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*f.p = x
	return nil
}
func (f intField) String() string { return strconv.Itoa(*f.p) }

// thresholds returns the decision thresholds of the configuration.
func (c *config) thresholds() bot.Thresholds {
	return bot.Thresholds{
		FAQ: float64(c.ThresholdFAQ), Doc: float64(c.ThresholdDoc), DocMargin: float64(c.ThresholdDocMargin),
		DocBeyond:     float64(c.ThresholdDocBeyond),
		ClarifyMargin: float64(c.ClarifyMargin), ClarifySure: float64(c.ClarifySure),
		Scope: float64(c.ThresholdScope), CueOverride: float64(c.ThresholdCueOverride),
		TopicOverride: float64(c.ThresholdTopicOverride),
	}
}

// searchCommands take the settings of the search stack.
var searchCommands = []string{"serve", "ask", "eval"}

// inUnit checks a share.
func inUnit(x float) error {
	if x < 0 || x > 1 {
		return fmt.Errorf("%v is not between 0 and 1", float64(x))
	}
	return nil
}

// duration is a time.Duration written as "10s" in files, variables and flags.
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 10s or 1m30s", b)
	}
	*d = duration(v)
	return nil
}

func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// byteSize is a number of bytes, written as 50GB, 500MB (decimal units,
// as disks are sold), 200GiB (binary units) or a plain number of bytes.
type byteSize uint64

// sizeUnits are the units of a byteSize, in the order MarshalText tries
// them.
var sizeUnits = []struct {
	name string
	n    uint64
}{
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"B", 1},
}

func (b *byteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	num := strings.TrimRightFunc(s, unicode.IsLetter)
	unit := strings.TrimSpace(s[len(num):])
	mult := uint64(1)
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.n
			}
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || mult == 0 || v < 0 || math.IsInf(v, 0) || v*float64(mult) >= 1<<63 {
		return fmt.Errorf("%q is not a size such as 50GB, 500MB or 200GiB", text)
	}
	*b = byteSize(math.Round(v * float64(mult)))
	return nil
}

func (b byteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String writes b exactly, in the largest unit that divides it.
func (b byteSize) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range sizeUnits {
		if uint64(b)%u.n == 0 {
			return strconv.FormatUint(uint64(b)/u.n, 10) + u.name
		}
	}
	return strconv.FormatUint(uint64(b), 10)
}

type sizeField struct{ p *byteSize }

func (f sizeField) Set(v string) error { return f.p.UnmarshalText([]byte(v)) }
func (f sizeField) String() string     { return f.p.String() }

// freeSpace is the free space to keep on a disk: a share of it (5%) or a
// size (2GB); 0 keeps none.
type freeSpace struct {
	percent float64
	bytes   byteSize
}

func (f *freeSpace) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v >= 0 && v < 100) {
			return fmt.Errorf("%q is not a share from 0%% to 99%%", text)
		}
		*f = freeSpace{percent: v}
		return nil
	}
	var b byteSize
	if err := b.UnmarshalText(text); err != nil {
		return fmt.Errorf("%q is not a share such as 5%% nor a size such as 10GB", text)
	}
	*f = freeSpace{bytes: b}
	return nil
}

func (f freeSpace) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

func (f freeSpace) String() string {
	if f.percent > 0 {
		return strconv.FormatFloat(f.percent, 'g', -1, 64) + "%"
	}
	return f.bytes.String()
}

// minFree is f for the recordings' janitor.
func (f freeSpace) minFree() record.MinFree {
	return record.MinFree{Percent: f.percent, Bytes: uint64(f.bytes)}
}

type freeField struct{ p *freeSpace }

func (f freeField) Set(v string) error { return f.p.UnmarshalText([]byte(v)) }
func (f freeField) String() string     { return f.p.String() }

// setting describes one configuration value for the flag set, the
// environment and the help text. Its file key is the yaml tag of field.
type setting struct {
	name   string // flag name; the file key is name with - → _, the variable GOVLIVE_ + upper(key)
	arg    string // placeholder in help, "" for a boolean
	usage  string
	secret bool                      // never printed with its value
	cmds   []string                  // subcommands that take it; nil = all
	field  func(c *config) flagValue // the field it sets
	check  func(c *config) error     // validation of the final value; nil = any
}

func (s setting) key() string { return strings.ReplaceAll(s.name, "-", "_") }
func (s setting) env() string { return "GOVLIVE_" + strings.ToUpper(s.key()) }

func (s setting) takenBy(cmd string) bool {
	return s.cmds == nil || contains(s.cmds, cmd)
}

// flagValue sets a config field from text, the way a flag.Value does.
type flagValue interface {
	Set(string) error
	String() string
}

type stringField struct{ p *string }

func (f stringField) Set(v string) error { *f.p = v; return nil }
func (f stringField) String() string     { return *f.p }

type boolField struct{ p *bool }

func (f boolField) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*f.p = b
	return nil
}
func (f boolField) String() string { return strconv.FormatBool(*f.p) }

type durationField struct{ p *duration }

func (f durationField) Set(v string) error { return f.p.UnmarshalText([]byte(v)) }
func (f durationField) String() string     { return time.Duration(*f.p).String() }

var settings = []setting{
	{name: "data", arg: "DIR", usage: "data directory: the database, index/ and recordings/ (created if missing)",
		field: func(c *config) flagValue { return stringField{&c.Data} },
		check: func(c *config) error {
			if strings.TrimSpace(c.Data) == "" {
				return errors.New("must not be empty")
			}
			return nil
		}},
	{name: "log-level", arg: "LEVEL", usage: "log level: debug, info, warn or error",
		field: func(c *config) flagValue { return stringField{&c.LogLevel} },
		check: func(c *config) error { _, err := parseLevel(c.LogLevel); return err }},
	{name: "log-format", arg: "FORMAT", usage: "log format on standard error: text or json",
		field: func(c *config) flagValue { return stringField{&c.LogFormat} },
		check: func(c *config) error {
			if c.LogFormat != "text" && c.LogFormat != "json" {
				return fmt.Errorf("%q is not text or json", c.LogFormat)
			}
			return nil
		}},
	{name: "addr", arg: "HOST:PORT", usage: "address the web server listens on", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.Addr} },
		check: func(c *config) error { return checkAddr(c.Addr) }},
	{name: "tls-cert", arg: "FILE", usage: "serve HTTPS with this certificate (PEM, chain first); browsers open the camera only on HTTPS pages or localhost", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.TLSCert} },
		check: func(c *config) error {
			if (c.TLSCert == "") != (c.TLSKey == "") {
				return errors.New("tls_cert and tls_key go together")
			}
			return nil
		}},
	{name: "tls-key", arg: "FILE", usage: "private key (PEM) of --tls-cert", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.TLSKey} }},
	{name: "sample", usage: "import the built-in sample pack into a new store, one that never held content (--sample=false to start empty)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return boolField{&c.Sample} }},
	{name: "shutdown-timeout", arg: "DURATION", usage: "how long in-flight requests may take to finish on SIGINT/SIGTERM", cmds: []string{"serve"},
		field: func(c *config) flagValue { return durationField{&c.ShutdownTimeout} },
		check: func(c *config) error {
			if c.ShutdownTimeout <= 0 {
				return errors.New("must be positive")
			}
			return nil
		}},
	{name: "udp-port", arg: "PORT", usage: "the one UDP port for all WebRTC (ICE) traffic; 0: an ephemeral port per connection", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.UDPPort} },
		check: func(c *config) error { return checkPort(c.UDPPort) }},
	{name: "tcp-port", arg: "PORT", usage: "ICE-TCP port, a fallback where UDP is blocked (0: off)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.TCPPort} },
		check: func(c *config) error {
			if err := checkPort(c.TCPPort); err != nil {
				return err
			}
			if c.TCPPort != 0 && c.TCPPort == portOf(c.Addr) {
				return errors.New("tcp_port is the web server's port")
			}
			return nil
		}},
	{name: "public-ip", arg: "IP[,IP]", usage: "public address(es) announced instead of the host's own (NAT 1:1, e.g. a cloud VM's elastic IP)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.PublicIP} },
		check: func(c *config) error {
			for _, ip := range splitList(c.PublicIP) {
				if net.ParseIP(ip) == nil {
					return fmt.Errorf("%q is not an IP address", ip)
				}
			}
			return nil
		}},
	{name: "ice-servers", arg: "URL[,URL]", usage: "STUN/TURN servers for the relay and the browser pages, e.g. stun:stun.example.cn:3478,turn:turn.example.cn:3478", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.ICEServers} },
		check: func(c *config) error {
			for _, u := range splitList(c.ICEServers) {
				if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
					return fmt.Errorf("%q is not a stun:, stuns:, turn: or turns: URL", u)
				}
			}
			return nil
		}},
	{name: "turn-username", arg: "NAME", usage: "user name for the turn: servers", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.TURNUsername} }},
	{name: "turn-credential", arg: "SECRET", usage: "password for the turn: servers (handed to the browser pages, never logged)", cmds: []string{"serve"}, secret: true,
		field: func(c *config) flagValue { return stringField{&c.TURNCredential} }},
	{name: "ice-loopback", usage: "use loopback addresses only for WebRTC (tests and local benchmarks)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return boolField{&c.ICELoopback} }},
	{name: "slots", arg: "N", usage: "audio and video slots per viewer: how many anchors a viewer sees at once", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.Slots} },
		check: func(c *config) error {
			if c.Slots < 1 || c.Slots > 16 {
				return fmt.Errorf("%d is not between 1 and 16", c.Slots)
			}
			return nil
		}},
	{name: "max-viewers", arg: "N", usage: "most viewers this relay takes at once (0: no cap); past it WHEP answers 503, e.g. to send the overflow to edges", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.MaxViewers} },
		check: func(c *config) error {
			if c.MaxViewers < 0 {
				return fmt.Errorf("%d is negative", c.MaxViewers)
			}
			return nil
		}},
	{name: "origin", arg: "URL", usage: "run as an edge: pull sessions from this origin relay (e.g. http://origin:8080) over WHEP", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.Origin} },
		check: func(c *config) error {
			if c.Origin == "" {
				return nil
			}
			u, err := url.Parse(c.Origin)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%q is not an http(s) URL", c.Origin)
			}
			return nil
		}},
	{name: "demo", usage: "publish a looping test card with a tone into session demo (not on an edge; --demo=false: off)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return boolField{&c.Demo} }},
	{name: "record", usage: "record every anchor while live, under DATA/recordings (--record=false: off)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return boolField{&c.Record} }},
	{name: "record-retention", arg: "DAYS", usage: "remove a finished recording this many days after it was last written (0: keep recordings forever)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.RecordRetention} },
		check: func(c *config) error {
			if c.RecordRetention < 0 || c.RecordRetention > maxRetentionDays {
				return fmt.Errorf("%d is not from 0 to %d days", c.RecordRetention, maxRetentionDays)
			}
			return nil
		}},
	{name: "record-budget", arg: "SIZE", usage: "most space all recordings may take, e.g. 500GB or 2TiB; past it the oldest finished recordings are removed first (0: no budget)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return sizeField{&c.RecordBudget} }},
	{name: "record-min-free", arg: "SIZE|PERCENT", usage: "free space to keep on the recordings' disk, e.g. 5% or 20GB; below it the oldest finished recordings are removed first, and /readyz reports it (0: no floor)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return freeField{&c.RecordMinFree} }},
	{name: "chat-window", arg: "DURATION", usage: "how long a chat question stays open to the same question; within it the bot points later askers to its reply", cmds: []string{"serve"},
		field: func(c *config) flagValue { return durationField{&c.ChatWindow} },
		check: func(c *config) error {
			if c.ChatWindow < duration(time.Second) || c.ChatWindow > duration(24*time.Hour) {
				return errors.New("must be from 1s to 24h")
			}
			return nil
		}},
	{name: "chat-retention", arg: "DAYS", usage: "delete chat messages this many days old (0: keep them forever)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return intField{&c.ChatRetention} },
		check: func(c *config) error {
			if c.ChatRetention < 0 || c.ChatRetention > maxRetentionDays {
				return fmt.Errorf("%d is not from 0 to %d days", c.ChatRetention, maxRetentionDays)
			}
			return nil
		}},
	{name: "llm-url", arg: "URL", usage: "OpenAI-compatible API base URL of a chat model that words document answers, e.g. http://127.0.0.1:11434/v1 (empty: quote the passage)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.LLMURL} },
		check: func(c *config) error {
			if c.LLMURL == "" {
				return nil
			}
			if c.LLMModel == "" {
				return errors.New("llm_model is required with llm_url")
			}
			if u, err := url.Parse(c.LLMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%q is not an http(s) URL", c.LLMURL)
			}
			return nil
		}},
	{name: "llm-model", arg: "NAME", usage: "chat model name, e.g. qwen2.5:7b", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.LLMModel} }},
	{name: "llm-key", arg: "KEY", usage: "API key of the chat model endpoint (never printed or logged)", cmds: []string{"serve"}, secret: true,
		field: func(c *config) flagValue { return stringField{&c.LLMKey} }},
	{name: "llm-deadline", arg: "DURATION", usage: "how long the model may take before the quoted passage is sent instead", cmds: []string{"serve"},
		field: func(c *config) flagValue { return durationField{&c.LLMDeadline} },
		check: func(c *config) error {
			if c.LLMDeadline <= 0 {
				return errors.New("must be positive")
			}
			return nil
		}},
	{name: "discord-token", arg: "TOKEN", usage: "Discord bot token: the bot joins the chat of the bound channels (empty: no Discord; never printed or logged)", cmds: []string{"serve"}, secret: true,
		field: func(c *config) flagValue { return stringField{&c.DiscordToken} }},
	{name: "discord-channels", arg: "CHANNEL=SESSION,...", usage: "bind Discord channel ids to sessions (channels can also be bound with /govlive bind)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.DiscordChannels} },
		check: func(c *config) error {
			for _, b := range discordBindings(c.DiscordChannels) {
				ch, ss, ok := strings.Cut(b, "=")
				if !ok || ch == "" || ss == "" || strings.Trim(ch, "0123456789") != "" {
					return fmt.Errorf("%q is not CHANNEL_ID=SESSION", b)
				}
			}
			return nil
		}},
	{name: "discord-api", arg: "URL", usage: "Discord REST base URL instead of https://discord.com/ (a proxy, or a stand-in in tests)", cmds: []string{"serve"},
		field: func(c *config) flagValue { return stringField{&c.DiscordAPI} },
		check: func(c *config) error {
			if c.DiscordAPI == "" {
				return nil
			}
			if u, err := url.Parse(c.DiscordAPI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
			return nil
		}},
	{name: "embed-url", arg: "URL", usage: "OpenAI-compatible API base URL for embeddings, e.g. http://127.0.0.1:11434/v1 (empty: lexical search only)", cmds: searchCommands,
		field: func(c *config) flagValue { return stringField{&c.EmbedURL} },
		check: func(c *config) error {
			if c.EmbedURL != "" && c.EmbedModel == "" {
				return errors.New("embed_model is required with embed_url")
			}
			return nil
		}},
	{name: "embed-model", arg: "NAME", usage: "embedding model name, e.g. bge-m3", cmds: searchCommands,
		field: func(c *config) flagValue { return stringField{&c.EmbedModel} }},
	{name: "embed-key", arg: "KEY", usage: "API key of the embedding endpoint (never printed or logged)", cmds: searchCommands, secret: true,
		field: func(c *config) flagValue { return stringField{&c.EmbedKey} }},
	{name: "embed-dimensions", arg: "N", usage: "vector size to request and check (0: the model's own)", cmds: searchCommands,
		field: func(c *config) flagValue { return intField{&c.EmbedDimensions} },
		check: func(c *config) error {
			if c.EmbedDimensions < 0 || c.EmbedDimensions > 16384 {
				return fmt.Errorf("%d is not between 0 and 16384", c.EmbedDimensions)
			}
			return nil
		}},
	{name: "embed-timeout", arg: "DURATION", usage: "timeout of one embedding request", cmds: searchCommands,
		field: func(c *config) flagValue { return durationField{&c.EmbedTimeout} },
		check: func(c *config) error {
			if c.EmbedTimeout <= 0 {
				return errors.New("must be positive")
			}
			return nil
		}},
	{name: "vectors", arg: "STORE", usage: "where vectors live: embedded (a file in the data directory) or qdrant", cmds: searchCommands,
		field: func(c *config) flagValue { return stringField{&c.Vectors} },
		check: func(c *config) error {
			if c.Vectors != "embedded" && c.Vectors != "qdrant" {
				return fmt.Errorf("%q is not embedded or qdrant", c.Vectors)
			}
			if c.Vectors == "qdrant" && (c.EmbedURL == "" || c.EmbedDimensions == 0) {
				return errors.New("qdrant needs an embedder (embed_url) and embed_dimensions")
			}
			return nil
		}},
	{name: "qdrant-addr", arg: "HOST:PORT", usage: "Qdrant gRPC address", cmds: searchCommands,
		field: func(c *config) flagValue { return stringField{&c.QdrantAddr} },
		check: func(c *config) error { return checkAddr(c.QdrantAddr) }},
	{name: "qdrant-key", arg: "KEY", usage: "Qdrant API key (never printed or logged)", cmds: searchCommands, secret: true,
		field: func(c *config) flagValue { return stringField{&c.QdrantKey} }},
	{name: "qdrant-tls", usage: "connect to Qdrant over TLS", cmds: searchCommands,
		field: func(c *config) flagValue { return boolField{&c.QdrantTLS} }},
	{name: "qdrant-collection", arg: "NAME", usage: "Qdrant collection", cmds: searchCommands,
		field: func(c *config) flagValue { return stringField{&c.QdrantCollection} }},
	{name: "threshold-faq", arg: "X", usage: "answer with the best FAQ entry at or above this confidence", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdFAQ} },
		check: func(c *config) error { return inUnit(c.ThresholdFAQ) }},
	{name: "threshold-doc", arg: "X", usage: "answer with the best document passage at or above this confidence", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdDoc} },
		check: func(c *config) error { return inUnit(c.ThresholdDoc) }},
	{name: "threshold-doc-margin", arg: "X", usage: "a passage wins over a qualifying FAQ entry when ahead by this much", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdDocMargin} },
		check: func(c *config) error { return inUnit(c.ThresholdDocMargin) }},
	{name: "threshold-doc-beyond", arg: "X", usage: "a passage wins over a qualifying FAQ entry only if it explains this share of the question that the entry does not", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdDocBeyond} },
		check: func(c *config) error { return inUnit(c.ThresholdDocBeyond) }},
	{name: "clarify-margin", arg: "X", usage: "ask the viewer which entry was meant when FAQ entries of one category are within this of the best (0: never)", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ClarifyMargin} },
		check: func(c *config) error { return inUnit(c.ClarifyMargin) }},
	{name: "clarify-sure", arg: "X", usage: "never ask back when the best FAQ entry's confidence is at least this", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ClarifySure} },
		check: func(c *config) error { return inUnit(c.ClarifySure) }},
	{name: "threshold-scope", arg: "X", usage: "below this a question is out of scope; between it and the answer levels it is escalated", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdScope} },
		check: func(c *config) error { return inUnit(c.ThresholdScope) }},
	{name: "threshold-topic-override", arg: "X", usage: "an out-of-scope cue declines unless a FAQ entry matches this well", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdTopicOverride} },
		check: func(c *config) error { return inUnit(c.ThresholdTopicOverride) }},
	{name: "threshold-cue-override", arg: "X", usage: "a chit-chat cue declines unless a FAQ entry matches this well", cmds: searchCommands,
		field: func(c *config) flagValue { return floatField{&c.ThresholdCueOverride} },
		check: func(c *config) error { return inUnit(c.ThresholdCueOverride) }},
}

// maxRetentionDays bounds record_retention (a century).
const maxRetentionDays = 36500

func checkPort(p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("%d is not a port from 0 to 65535", p)
	}
	return nil
}

// portOf is the port of HOST:PORT (-1 if none).
func portOf(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return -1
	}
	return n
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// checkAddr accepts HOST:PORT with a numeric port (0 picks a free one).
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port must be a number from 0 to 65535", addr)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// validate checks the settings that subcommand cmd takes; settings of
// other subcommands (say, addr in a config file shared with serve) are
// neither used nor checked.
func (c *config) validate(cmd string) error {
	var errs []error
	for _, s := range settings {
		if s.check == nil || !s.takenBy(cmd) {
			continue
		}
		if err := s.check(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.key(), err))
		}
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// loadFile decodes a YAML (.yaml, .yml) or TOML (.toml) file over c.
// A key that config does not have is an error.
func loadFile(c *config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	return decodeFile(c, path, data)
}

// decodeFile decodes data, the content of the config file path, over c;
// the extension of path chooses YAML or TOML.
func decodeFile(c *config, path string, data []byte) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("config file %s: %w", path, err)
		}
		if err := noMoreYAML(dec); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
	case ".toml":
		md, err := toml.Decode(string(data), c)
		if err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
		unknown := map[string]bool{}
		for _, k := range md.Undecoded() {
			unknown[k.String()] = true
		}
		// the TOML decoder also fills a field from a key that matches its
		// name but not its case (Addr, LOG_LEVEL): those are unknown too
		for _, k := range md.Keys() {
			if len(k) == 1 && !tomlKeys[k[0]] {
				unknown[k.String()] = true
			}
		}
		if len(unknown) > 0 {
			keys := make([]string, 0, len(unknown))
			for k := range unknown {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return fmt.Errorf("config file %s: unknown keys: %s", path, strings.Join(keys, ", "))
		}
	default:
		return fmt.Errorf("config file %s: want a .yaml, .yml or .toml file", path)
	}
	return nil
}

// tomlKeys are the keys of a TOML config file, exactly as written.
var tomlKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config]()) {
		keys[f.Tag.Get("toml")] = true
	}
	return keys
}()

// noMoreYAML checks that dec has read the only document of its file: the
// settings of a second one ("---" and more) would otherwise be ignored
// without a word. An empty document, such as a closing "---", is allowed.
func noMoreYAML(dec *yaml.Decoder) error {
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if len(extra.Content) == 1 && extra.Content[0].Tag == "!!null" && extra.Content[0].Value == "" {
			continue
		}
		return fmt.Errorf("a second YAML document starts on line %d; a config file holds one document only", extra.Line)
	}
}

// parseConfig reads the flags of subcommand cmd from args and builds the
// configuration: defaults, file, environment, then the flags that were
// given. It returns the remaining positional arguments.
func parseConfig(cmd string, args []string, getenv func(string) string, help io.Writer, positional string, extra func(fs *flag.FlagSet)) (config, []string, error) {
	fs := flag.NewFlagSet("govlive "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var configPath string
	fs.StringVar(&configPath, "config", "", "")
	given := map[string]string{}
	var own []setting
	for _, s := range settings {
		if !s.takenBy(cmd) {
			continue
		}
		own = append(own, s)
		name := s.name
		if s.arg == "" {
			fs.BoolFunc(name, "", func(v string) error { given[name] = v; return nil })
		} else {
			fs.Func(name, "", func(v string) error { given[name] = v; return nil })
		}
	}
	if extra != nil {
		extra(fs)
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(help, cmd, positional, own, fs)
			return config{}, nil, errHelp
		}
		return config{}, nil, usageError{fmt.Errorf("%s: %w (see govlive %s -h)", cmd, err, cmd)}
	}

	c := defaultConfig()
	if configPath == "" {
		configPath = getenv("GOVLIVE_CONFIG")
	}
	if configPath != "" {
		if err := loadFile(&c, configPath); err != nil {
			return config{}, nil, err
		}
	}
	for _, s := range own {
		if v := getenv(s.env()); v != "" {
			if err := s.field(&c).Set(v); err != nil {
				return config{}, nil, fmt.Errorf("%s: %w", s.env(), err)
			}
		}
	}
	for _, s := range own {
		if v, ok := given[s.name]; ok {
			if err := s.field(&c).Set(v); err != nil {
				return config{}, nil, usageError{fmt.Errorf("--%s: %w", s.name, err)}
			}
		}
	}
	if err := c.validate(cmd); err != nil {
		return config{}, nil, fmt.Errorf("configuration: %w", err)
	}
	return c, rest, nil
}

// parseInterspersed parses flags wherever they are among the positional
// arguments (govlive ask "问题" --json is govlive ask --json "问题"); after
// "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

func printHelp(w io.Writer, cmd, positional string, own []setting, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: govlive %s [flags]%s\n\n%s\n\nflags:\n", cmd, positional, commands[cmd])
	def := defaultConfig()
	line := func(flagPart, usage string) {
		fmt.Fprintf(w, "  %-28s %s\n", flagPart, usage)
	}
	line("--config FILE", "configuration file, YAML (.yaml/.yml) or TOML (.toml); unknown keys are an error (env GOVLIVE_CONFIG)")
	for _, s := range own {
		f := "--" + s.name
		if s.arg != "" {
			f += " " + s.arg
		}
		dv := s.field(&def).String()
		if s.secret && dv != "" {
			dv = "(set)"
		}
		line(f, fmt.Sprintf("%s (default %q; env %s; file key %s)", s.usage, dv, s.env(), s.key()))
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return // the settings above
		}
		line("--"+f.Name+" "+strings.ToUpper(f.Name), f.Usage+describeDefault(f.DefValue))
	})
	fmt.Fprintln(w, "\nOrder of precedence: defaults < config file < GOVLIVE_* environment < flags.")
}

func describeDefault(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(" (default %q)", v)
}

// errHelp is returned after -h printed the help: the command succeeded.
var errHelp = errors.New("help shown")

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// discordBindings splits discord_channels into its CHANNEL=SESSION items.
func discordBindings(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
