package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// FuzzConfigFile fuzzes the config file parser (decodeFile, behind
// loadFile; YAML or TOML).
// Properties: no panic; a file either parses into a config or is an error
// naming the file; a file that parses names only keys config has (an
// unknown key is an error, at any level); and what parsed is written back
// as YAML and read again to the same config.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte(yamlAll), false)
	f.Add([]byte(tomlAll), true)
	f.Add([]byte("---\naddr: 127.0.0.1:9010\n---\n"), false)
	f.Add([]byte("slots: 4\nmax_viewers: 100\nice_servers: stun:stun.example:3478\nthreshold_faq: 0.6\nrecord: true\n"), false)
	f.Add([]byte("udp_port = 50000\norigin = \"http://origin:8080\"\nembed_timeout = \"1m30s\"\n[extra]\nx = 1\n"), true)
	f.Add([]byte("data: x\ndata_dir: y\n"), false)
	f.Add([]byte("record_retention: 30\nrecord_budget: 1.5TB\nrecord_min_free: 2.5%\n"), false)
	f.Add([]byte("record_budget = \"200GiB\"\nrecord_min_free = \"10 GB\"\n"), true)
	f.Add([]byte("base: &b {addr: \"127.0.0.1:1\"}\n<<: *b\n"), false)
	f.Add([]byte(""), true)
	known := map[string]bool{}
	for _, fld := range reflect.VisibleFields(reflect.TypeFor[config]()) {
		known[fld.Tag.Get("yaml")] = true
		known[fld.Tag.Get("toml")] = true
	}
	f.Fuzz(func(t *testing.T, data []byte, isTOML bool) {
		path := "fuzz/govlive.yaml"
		if isTOML {
			path = "fuzz/govlive.toml"
		}
		c := defaultConfig()
		if err := decodeFile(&c, path, data); err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, k := range topKeys(t, data, isTOML) {
			if !known[k] {
				t.Fatalf("parsed a file with the unknown key %q", k)
			}
		}
		out, err := yaml.Marshal(&c)
		if err != nil {
			t.Fatalf("write the config back: %v", err)
		}
		c2 := defaultConfig()
		if err := decodeFile(&c2, "fuzz/again.yaml", out); err != nil {
			t.Fatalf("the config written back does not parse: %v\n%s", err, out)
		}
		if out2, _ := yaml.Marshal(&c2); !bytes.Equal(out, out2) { // compared as text: NaN is NaN
			t.Fatalf("read back differently:\n%s\nthen\n%s", out, out2)
		}
	})
}

// topKeys are the top-level keys of a YAML document or TOML file that
// parsed.
func topKeys(t *testing.T, data []byte, isTOML bool) []string {
	t.Helper()
	var m map[string]any
	if isTOML {
		if _, err := toml.Decode(string(data), &m); err != nil {
			t.Fatalf("parsed as config, but not as TOML: %v", err)
		}
	} else if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil && err.Error() != "EOF" {
		t.Fatalf("parsed as config, but not as a YAML mapping: %v", err)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if _, nested := v.(map[string]any); nested {
			keys = append(keys, k+".(table)")
		}
	}
	return keys
}
