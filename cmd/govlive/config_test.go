package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// configFile writes body to a file named name in a fresh temp folder and
// returns its path.
func configFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withFile replaces "{file}" in args and in the values of env with path.
func withFile(path string, args []string, env map[string]string) ([]string, map[string]string) {
	a := make([]string, len(args))
	for i, v := range args {
		a[i] = strings.ReplaceAll(v, "{file}", path)
	}
	e := make(map[string]string, len(env))
	for k, v := range env {
		e[k] = strings.ReplaceAll(v, "{file}", path)
	}
	return a, e
}

const (
	yamlAll = `data: /from/yaml
addr: 127.0.0.1:9001
log_level: debug
log_format: json
sample: false
shutdown_timeout: 3s
`
	tomlAll = `data = "/from/toml"
addr = "127.0.0.1:9002"
log_level = "warn"
log_format = "json"
sample = false
shutdown_timeout = "4s"
`
)

func TestParseConfigPrecedence(t *testing.T) {
	def := defaultConfig()
	with := func(f func(c *config)) config {
		c := defaultConfig()
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name     string
		cmd      string
		fileName string // written with fileBody when not empty; "{file}" in args and env is its path
		fileBody string
		env      map[string]string
		args     []string
		want     config
		wantRest []string
	}{
		{
			name: "defaults",
			cmd:  "serve",
			want: def,
		},
		{
			name:     "yaml file over defaults",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: yamlAll,
			args: []string{"--config", "{file}"},
			want: with(func(c *config) {
				c.Data, c.Addr, c.LogLevel, c.LogFormat = "/from/yaml", "127.0.0.1:9001", "debug", "json"
				c.Sample, c.ShutdownTimeout = false, duration(3*time.Second)
			}),
		},
		{
			name:     "yml extension",
			cmd:      "serve",
			fileName: "govlive.yml", fileBody: "addr: 127.0.0.1:9009\n",
			args: []string{"--config", "{file}"},
			want: with(func(c *config) { c.Addr = "127.0.0.1:9009" }),
		},
		{
			name:     "toml file over defaults",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: tomlAll,
			args: []string{"--config", "{file}"},
			want: with(func(c *config) {
				c.Data, c.Addr, c.LogLevel, c.LogFormat = "/from/toml", "127.0.0.1:9002", "warn", "json"
				c.Sample, c.ShutdownTimeout = false, duration(4*time.Second)
			}),
		},
		{
			name:     "yaml between --- lines",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "---\naddr: 127.0.0.1:9010\n---\n",
			args: []string{"--config", "{file}"},
			want: with(func(c *config) { c.Addr = "127.0.0.1:9010" }),
		},
		{
			name:     "empty yaml file keeps defaults",
			cmd:      "serve",
			fileName: "empty.yaml", fileBody: "",
			args: []string{"--config", "{file}"},
			want: def,
		},
		{
			name:     "GOVLIVE_CONFIG names the file",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "log_level: error\n",
			env:  map[string]string{"GOVLIVE_CONFIG": "{file}"},
			want: with(func(c *config) { c.LogLevel = "error" }),
		},
		{
			name:     "--config wins over GOVLIVE_CONFIG",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "log_level: error\n",
			env:  map[string]string{"GOVLIVE_CONFIG": "/no/such/file.yaml"},
			args: []string{"--config", "{file}"},
			want: with(func(c *config) { c.LogLevel = "error" }),
		},
		{
			name:     "environment over yaml file",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: yamlAll,
			env: map[string]string{
				"GOVLIVE_DATA": "/from/env", "GOVLIVE_ADDR": "127.0.0.1:7000", "GOVLIVE_LOG_LEVEL": "warn",
				"GOVLIVE_LOG_FORMAT": "text", "GOVLIVE_SAMPLE": "true", "GOVLIVE_SHUTDOWN_TIMEOUT": "1m30s",
			},
			args: []string{"--config", "{file}"},
			want: with(func(c *config) {
				c.Data, c.Addr, c.LogLevel, c.LogFormat = "/from/env", "127.0.0.1:7000", "warn", "text"
				c.Sample, c.ShutdownTimeout = true, duration(90*time.Second)
			}),
		},
		{
			name:     "environment over toml file, file keeps the rest",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: tomlAll,
			env:  map[string]string{"GOVLIVE_ADDR": "127.0.0.1:7001"},
			args: []string{"--config", "{file}"},
			want: with(func(c *config) {
				c.Data, c.Addr, c.LogLevel, c.LogFormat = "/from/toml", "127.0.0.1:7001", "warn", "json"
				c.Sample, c.ShutdownTimeout = false, duration(4*time.Second)
			}),
		},
		{
			name: "empty variable counts as unset",
			cmd:  "serve",
			env:  map[string]string{"GOVLIVE_DATA": "", "GOVLIVE_LOG_LEVEL": ""},
			want: def,
		},
		{
			name: "flags over environment",
			cmd:  "serve",
			env: map[string]string{
				"GOVLIVE_DATA": "/from/env", "GOVLIVE_ADDR": "127.0.0.1:7000", "GOVLIVE_LOG_LEVEL": "warn",
				"GOVLIVE_SAMPLE": "false", "GOVLIVE_SHUTDOWN_TIMEOUT": "1m",
			},
			args: []string{"--data", "/from/flag", "-addr=127.0.0.1:6000", "--log-level", "debug",
				"--sample", "--shutdown-timeout", "2s"},
			want: with(func(c *config) {
				c.Data, c.Addr, c.LogLevel, c.Sample, c.ShutdownTimeout = "/from/flag", "127.0.0.1:6000", "debug", true, duration(2*time.Second)
			}),
		},
		{
			name:     "recordings kept: yaml file",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "record_retention: 30\nrecord_budget: 500GB\nrecord_min_free: 20GiB\n",
			args: []string{"--config", "{file}"},
			want: with(func(c *config) {
				c.RecordRetention, c.RecordBudget, c.RecordMinFree = 30, 500e9, freeSpace{bytes: 20 << 30}
			}),
		},
		{
			name:     "recordings kept: toml file, environment and flags over it",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "record_retention = 0\nrecord_budget = \"1.5 TB\"\nrecord_min_free = \"10%\"\n",
			env:  map[string]string{"GOVLIVE_RECORD_BUDGET": "2tib"},
			args: []string{"--config", "{file}", "--record-min-free", "2.5%"},
			want: with(func(c *config) {
				c.RecordRetention, c.RecordBudget, c.RecordMinFree = 0, 2<<40, freeSpace{percent: 2.5}
			}),
		},
		{
			name: "recordings kept: no floor, no budget",
			cmd:  "serve",
			args: []string{"--record-min-free", "0", "--record-budget=0", "--record-retention", "365"},
			want: with(func(c *config) { c.RecordRetention, c.RecordMinFree = 365, freeSpace{} }),
		},
		{
			name: "--sample=false over default",
			cmd:  "serve",
			args: []string{"--sample=false"},
			want: with(func(c *config) { c.Sample = false }),
		},
		{
			name:     "each layer wins where it is the highest",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "data = \"/file\"\naddr = \"127.0.0.1:1\"\nlog_level = \"warn\"\n",
			env:  map[string]string{"GOVLIVE_CONFIG": "{file}", "GOVLIVE_DATA": "/env", "GOVLIVE_ADDR": "127.0.0.1:2"},
			args: []string{"--data", "/flag"},
			want: with(func(c *config) { c.Data, c.Addr, c.LogLevel = "/flag", "127.0.0.1:2", "warn" }),
		},
		{
			name:     "import: file and flags, pack folder is positional",
			cmd:      "import",
			fileName: "govlive.yaml", fileBody: "data: /file\nlog_format: json\n",
			args:     []string{"--config", "{file}", "--data", "/flag", "PACK"},
			want:     with(func(c *config) { c.Data, c.LogFormat = "/flag", "json" }),
			wantRest: []string{"PACK"},
		},
		{
			name:     "import: -- ends the flags",
			cmd:      "import",
			env:      map[string]string{"GOVLIVE_DATA": "/env"},
			args:     []string{"--", "--data"},
			want:     with(func(c *config) { c.Data = "/env" }),
			wantRest: []string{"--data"},
		},
		{
			// Flags are read wherever they are among the arguments.
			name:     "import: a flag after the folder",
			cmd:      "import",
			env:      map[string]string{"GOVLIVE_DATA": "/env"},
			args:     []string{"DIR", "--data", "X"},
			want:     with(func(c *config) { c.Data = "X" }),
			wantRest: []string{"DIR"},
		},
		{
			// After "--" everything is an argument.
			name:     "import: arguments after --",
			cmd:      "import",
			env:      map[string]string{"GOVLIVE_DATA": "/env"},
			args:     []string{"--", "--data", "X"},
			want:     with(func(c *config) { c.Data = "/env" }),
			wantRest: []string{"--data", "X"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, env := tc.args, tc.env
			if tc.fileName != "" {
				args, env = withFile(configFile(t, tc.fileName, tc.fileBody), args, env)
			}
			var help bytes.Buffer
			var actor string
			var extra func(*flag.FlagSet)
			if tc.cmd == "import" {
				extra = actorFlag(&actor, envFunc(env))
			}
			got, rest, err := parseConfig(tc.cmd, args, envFunc(env), &help, "", extra)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tc.want {
				t.Errorf("got config\n%+v\nwant\n%+v", got, tc.want)
			}
			if len(rest) != 0 || len(tc.wantRest) != 0 {
				if !reflect.DeepEqual(rest, tc.wantRest) {
					t.Errorf("got arguments %q, want %q", rest, tc.wantRest)
				}
			}
			if help.Len() != 0 {
				t.Errorf("got help %q, want none", help.String())
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cmd       string
		fileName  string
		fileBody  string
		env       map[string]string
		args      []string
		wantUsage bool     // a usageError (exit status 2)
		wantText  []string // substrings of the error
	}{
		{
			name:     "unknown key in yaml",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "addr: 127.0.0.1:1\ncolour: blue\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"colour", "govlive.yaml"},
		},
		{
			name:     "unknown key in toml",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "addr = \"127.0.0.1:1\"\ncolour = \"blue\"\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"unknown keys: colour", "govlive.toml"},
		},
		{
			name:     "toml key in another case",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "Addr = \"127.0.0.1:1\"\nLOG_LEVEL = \"debug\"\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"unknown keys: Addr, LOG_LEVEL", "govlive.toml"},
		},
		{
			name:     "unknown table in toml",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "[server]\nport = 8080\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"unknown keys", "server"},
		},
		{
			name:     "flag name as a yaml key",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "log-level: debug\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"log-level"},
		},
		{
			name:     "malformed yaml",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "addr: [unclosed\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"config file", "govlive.yaml"},
		},
		{
			name:     "second yaml document",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "addr: 127.0.0.1:1\n---\nlog_level: debug\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"govlive.yaml", "second YAML document", "line 2"},
		},
		{
			name:     "config file of another format",
			cmd:      "serve",
			fileName: "govlive.json", fileBody: "{}",
			args:     []string{"--config", "{file}"},
			wantText: []string{"want a .yaml, .yml or .toml file"},
		},
		{
			name:     "missing config file",
			cmd:      "serve",
			env:      map[string]string{"GOVLIVE_CONFIG": "/no/such/govlive.yaml"},
			wantText: []string{"config file", "/no/such/govlive.yaml"},
		},
		{
			name:     "log level loud in a flag",
			cmd:      "serve",
			args:     []string{"--log-level", "loud"},
			wantText: []string{`log_level: "loud"`},
		},
		{
			name:     "log level loud in the environment",
			cmd:      "export",
			env:      map[string]string{"GOVLIVE_LOG_LEVEL": "loud"},
			wantText: []string{`log_level: "loud"`},
		},
		{
			name:     "log level loud in a yaml file",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "log_level: loud\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{`log_level: "loud"`},
		},
		{
			name:     "log format xml",
			cmd:      "serve",
			args:     []string{"--log-format", "xml"},
			wantText: []string{`log_format: "xml"`},
		},
		{
			name:     "addr nohostport in a flag",
			cmd:      "serve",
			args:     []string{"--addr", "nohostport"},
			wantText: []string{`addr: "nohostport" is not HOST:PORT`},
		},
		{
			name:     "addr nohostport in a toml file",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "addr = \"nohostport\"\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{`addr: "nohostport" is not HOST:PORT`},
		},
		{
			name:      "shutdown timeout soon in a flag",
			cmd:       "serve",
			args:      []string{"--shutdown-timeout", "soon"},
			wantUsage: true,
			wantText:  []string{"--shutdown-timeout", `"soon" is not a duration`},
		},
		{
			name:     "shutdown timeout soon in the environment",
			cmd:      "serve",
			env:      map[string]string{"GOVLIVE_SHUTDOWN_TIMEOUT": "soon"},
			wantText: []string{"GOVLIVE_SHUTDOWN_TIMEOUT", `"soon" is not a duration`},
		},
		{
			name:     "shutdown timeout soon in a yaml file",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "shutdown_timeout: soon\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{`"soon" is not a duration`},
		},
		{
			name:     "shutdown timeout soon in a toml file",
			cmd:      "serve",
			fileName: "govlive.toml", fileBody: "shutdown_timeout = \"soon\"\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{`"soon" is not a duration`},
		},
		{
			name:     "shutdown timeout zero",
			cmd:      "serve",
			args:     []string{"--shutdown-timeout", "0s"},
			wantText: []string{"shutdown_timeout: must be positive"},
		},
		{
			name:     "empty data folder",
			cmd:      "serve",
			args:     []string{"--data", " "},
			wantText: []string{"data: must not be empty"},
		},
		{
			name:     "record retention negative",
			cmd:      "serve",
			args:     []string{"--record-retention", "-1"},
			wantText: []string{"record_retention: -1 is not from 0 to 36500 days"},
		},
		{
			name:      "record budget without a number",
			cmd:       "serve",
			args:      []string{"--record-budget", "lots"},
			wantUsage: true,
			wantText:  []string{"--record-budget", `"lots" is not a size`},
		},
		{
			name:     "record budget in an unknown unit",
			cmd:      "serve",
			fileName: "govlive.yaml", fileBody: "record_budget: 5 PB\n",
			args:     []string{"--config", "{file}"},
			wantText: []string{"govlive.yaml", `"5 PB" is not a size`},
		},
		{
			name:     "record min free of the whole disk",
			cmd:      "serve",
			env:      map[string]string{"GOVLIVE_RECORD_MIN_FREE": "100%"},
			wantText: []string{"GOVLIVE_RECORD_MIN_FREE", `"100%" is not a share from 0% to 99%`},
		},
		{
			name:      "sample maybe in a flag",
			cmd:       "serve",
			args:      []string{"--sample=maybe"},
			wantUsage: true,
			wantText:  []string{"--sample", `"maybe" is not true or false`},
		},
		{
			name:     "sample maybe in the environment",
			cmd:      "serve",
			env:      map[string]string{"GOVLIVE_SAMPLE": "maybe"},
			wantText: []string{"GOVLIVE_SAMPLE"},
		},
		{
			name:      "unknown flag",
			cmd:       "serve",
			args:      []string{"--colour", "blue"},
			wantUsage: true,
			wantText:  []string{"colour", "govlive serve -h"},
		},
		{
			name:      "flag of another command",
			cmd:       "import",
			args:      []string{"--addr", "127.0.0.1:1", "PACK"},
			wantUsage: true,
			wantText:  []string{"addr", "govlive import -h"},
		},
		{
			name:      "flag without its value",
			cmd:       "serve",
			args:      []string{"--data"},
			wantUsage: true,
			wantText:  []string{"data"},
		},
		{
			name:     "relay settings out of range",
			cmd:      "serve",
			args:     []string{"--udp-port", "70000", "--slots", "0", "--public-ip", "not-an-ip", "--ice-servers", "http://stun.example"},
			wantText: []string{"udp_port: 70000", "slots: 0", `public_ip: "not-an-ip"`, `ice_servers: "http://stun.example"`},
		},
		{
			name:     "origin that is not an http URL",
			cmd:      "serve",
			env:      map[string]string{"GOVLIVE_ORIGIN": "ftp://origin"},
			wantText: []string{`origin: "ftp://origin" is not an http(s) URL`},
		},
		{
			name:     "ICE-TCP on the web server's port",
			cmd:      "serve",
			args:     []string{"--addr", "127.0.0.1:8080", "--tcp-port", "8080"},
			wantText: []string{"tcp_port is the web server's port"},
		},
		{
			name:      "token flag on serve",
			cmd:       "serve",
			args:      []string{"--anchor", "甲"},
			wantUsage: true,
			wantText:  []string{"anchor"},
		},
		{
			name:     "several mistakes are all reported",
			cmd:      "serve",
			args:     []string{"--log-level", "loud", "--addr", "nohostport"},
			wantText: []string{`log_level: "loud"`, `addr: "nohostport"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, env := tc.args, tc.env
			if tc.fileName != "" {
				args, env = withFile(configFile(t, tc.fileName, tc.fileBody), args, env)
			}
			_, _, err := parseConfig(tc.cmd, args, envFunc(env), io.Discard, "", nil)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if errors.Is(err, errHelp) {
				t.Fatalf("got errHelp, want an error")
			}
			if got := errors.As(err, new(usageError)); got != tc.wantUsage {
				t.Errorf("got usageError %v, want %v (error %v)", got, tc.wantUsage, err)
			}
			for _, s := range tc.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("got error %q, want it to contain %q", err, s)
				}
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd       string
		arg       string
		extra     []string // flags besides the settings
		notFlags  []string // flags of other commands
		wantUsage string
	}{
		{cmd: "serve", arg: "-h", wantUsage: "usage: govlive serve [flags]\n"},
		{cmd: "serve", arg: "--help", wantUsage: "usage: govlive serve [flags]\n"},
		{cmd: "import", arg: "-h", extra: []string{"actor"}, notFlags: []string{"addr", "sample", "shutdown-timeout"},
			wantUsage: "usage: govlive import [flags] PACK_DIR\n"},
		{cmd: "export", arg: "-help", notFlags: []string{"addr", "sample", "shutdown-timeout", "actor"},
			wantUsage: "usage: govlive export [flags] PACK_DIR\n"},
	} {
		t.Run(tc.cmd+" "+tc.arg, func(t *testing.T) {
			var help bytes.Buffer
			positional := ""
			var extra func(*flag.FlagSet)
			if tc.cmd != "serve" {
				positional = " PACK_DIR"
			}
			if tc.cmd == "import" {
				var actor string
				extra = actorFlag(&actor, envFunc(nil))
			}
			_, _, err := parseConfig(tc.cmd, []string{tc.arg}, envFunc(nil), &help, positional, extra)
			if !errors.Is(err, errHelp) {
				t.Fatalf("got error %v, want errHelp", err)
			}
			out := help.String()
			if !strings.HasPrefix(out, tc.wantUsage) {
				t.Errorf("got help starting %q, want %q", firstLine(out), tc.wantUsage)
			}
			want := []string{"--config", "GOVLIVE_CONFIG"}
			for _, s := range settings {
				if s.takenBy(tc.cmd) {
					want = append(want, "--"+s.name, s.env(), "file key "+s.key())
				}
			}
			for _, f := range tc.extra {
				want = append(want, "--"+f)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, f := range tc.notFlags {
				if strings.Contains(out, "--"+f+" ") {
					t.Errorf("help mentions --%s, which %s does not take:\n%s", f, tc.cmd, out)
				}
			}
		})
	}

	// The serve help names every setting; a new setting that is not in
	// this list shows up here.
	var help bytes.Buffer
	if _, _, err := parseConfig("serve", []string{"-h"}, envFunc(nil), &help, "", nil); !errors.Is(err, errHelp) {
		t.Fatalf("serve -h: got %v, want errHelp", err)
	}
	for _, v := range []string{"GOVLIVE_DATA", "GOVLIVE_ADDR", "GOVLIVE_LOG_LEVEL", "GOVLIVE_LOG_FORMAT", "GOVLIVE_SAMPLE", "GOVLIVE_SHUTDOWN_TIMEOUT", "GOVLIVE_CONFIG"} {
		if !strings.Contains(help.String(), v) {
			t.Errorf("serve help lacks %s", v)
		}
	}
}
