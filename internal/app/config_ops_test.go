package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodToken = "0123456789abcdef0123"

func TestOperationsFlags(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte(goodToken+"\n"), 0o600)
	c, err := parseConfig([]string{"--addr", "0.0.0.0:8080", "--token-file", tokFile, "--cors-origins", "https://a.example, http://localhost:3000",
		"--allowed-hosts", "vitals.example.com", "--max-clients", "50", "--metrics-public", "--log-format", "json"},
		env("VITALS_READ_TOKEN", "read-"+goodToken), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != goodToken || c.ReadToken != "read-"+goodToken || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "http://localhost:3000" ||
		c.AllowedHosts[0] != "vitals.example.com" || c.MaxClients != 50 || !c.MetricsPublic || c.LogFormat != "json" {
		t.Fatalf("config = %+v", c.Operations)
	}
	c, err = parseConfig(nil, env("VITALS_TOKEN", goodToken, "VITALS_ADDR", "[::]:80", "VITALS_INSECURE", "false"), io.Discard)
	if err != nil || c.Token != goodToken {
		t.Fatalf("token from the environment: %v %+v", err, c.Operations)
	}
	c, err = parseConfig(nil, env(), io.Discard)
	if err != nil || c.MaxClients != 10000 || c.LogFormat != "auto" || c.Token != "" {
		t.Fatalf("defaults: %v %+v", err, c.Operations)
	}
}

func TestOperationsFlagsReject(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"public address without token", []string{"--addr", "0.0.0.0:8080"}, nil, "VITALS_TOKEN"},
		{"all interfaces without token", []string{"--addr", ":8080"}, nil, "--insecure"},
		{"public address from env", nil, []string{"VITALS_ADDR", "192.0.2.1:80"}, "--addr"},
		{"short token", []string{"--token", "abc"}, nil, "--token"},
		{"token with a space", []string{"--token", "abcdefgh ijklmnopq"}, nil, "--token"},
		{"token and file", []string{"--token", goodToken, "--token-file", empty}, nil, "--token-file"},
		{"missing token file", []string{"--token-file", filepath.Join(dir, "nope")}, nil, "--token-file"},
		{"empty token file", []string{"--token-file", empty}, nil, "--token-file"},
		{"read token alone", []string{"--read-token", goodToken}, nil, "--read-token"},
		{"read token same as token", []string{"--token", goodToken, "--read-token", goodToken}, nil, "--read-token"},
		{"bad origin", []string{"--cors-origins", "example.com"}, nil, "--cors-origins"},
		{"origin with a path", []string{"--cors-origins", "https://example.com/app"}, nil, "--cors-origins"},
		{"allowed host with scheme", []string{"--allowed-hosts", "https://x.example"}, nil, "--allowed-hosts"},
		{"max clients zero", []string{"--max-clients", "0"}, nil, "--max-clients"},
		{"max clients garbage", nil, []string{"VITALS_MAX_CLIENTS", "many"}, "--max-clients"},
		{"log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"insecure garbage", nil, []string{"VITALS_INSECURE", "perhaps"}, "--insecure"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, env(tt.env...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tt.want)
			}
			if strings.Contains(err.Error(), goodToken) {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
	if _, err := parseConfig([]string{"--addr", "0.0.0.0:8080", "--insecure"}, env(), io.Discard); err != nil {
		t.Fatalf("--insecure: %v", err)
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:80": true, "[::1]:8080": true, "127.8.9.1:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "192.168.1.2:80": false, "example.com:80": false, "garbage": false,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v", addr, got)
		}
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	if w := plainHTTPWarning("127.0.0.1:8080", "tok", false); w != "" {
		t.Errorf("loopback warned: %q", w)
	}
	if w := plainHTTPWarning("0.0.0.0:8080", "tok", false); !strings.Contains(w, "the access token and the metrics travel unencrypted") ||
		!strings.Contains(w, "docs/operations.md") {
		t.Errorf("token in clear: %q", w)
	}
	if w := plainHTTPWarning("[::]:80", "", false); !strings.Contains(w, "metrics travel unencrypted") || strings.Contains(w, "token") {
		t.Errorf("--insecure: %q", w)
	}
}
