package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/internal/testenv"
)

// runCmd runs the binary's entry point in-process with a clean environment
// for every PASSERELLE_ setting.
func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	for _, s := range settings {
		t.Setenv(s.env, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), &Env{Stdout: &out, Stderr: &errb}, args)
	return out.String(), err
}

const goodKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes

func TestBadSettingsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secret outside dev mode", nil, []string{"migrate"}, "PASSERELLE_SECRET_KEY: not set"},
		{"short secret", map[string]string{"PASSERELLE_SECRET_KEY": "YWJj"}, []string{"migrate"}, "PASSERELLE_SECRET_KEY: decodes to 3 bytes"},
		{"unknown uri scheme", map[string]string{"PASSERELLE_DEV": "1", "PASSERELLE_NEO4J_URI": "http://127.0.0.1:7474"}, []string{"migrate"}, `PASSERELLE_NEO4J_URI: unknown scheme "http"`},
		{"unreachable neo4j", map[string]string{"PASSERELLE_SECRET_KEY": goodKey, "PASSERELLE_NEO4J_URI": "bolt://127.0.0.1:1"}, []string{"migrate"}, "PASSERELLE_NEO4J_URI: cannot reach Neo4j at bolt://127.0.0.1:1"},
		{"unreachable redis", map[string]string{"PASSERELLE_DEV": "1", "PASSERELLE_NEO4J_URI": testenv.Neo4jURI(), "PASSERELLE_REDIS_ADDR": "127.0.0.1:1", "PASSERELLE_HTTP_ADDR": "127.0.0.1:0"}, []string{"serve"}, "PASSERELLE_REDIS_ADDR: cannot reach Redis at 127.0.0.1:1"},
		{"redis addr without port", map[string]string{"PASSERELLE_DEV": "1", "PASSERELLE_REDIS_ADDR": "localhost"}, []string{"work"}, "PASSERELLE_REDIS_ADDR"},
		{"bad integer in env", map[string]string{"PASSERELLE_DEV": "1", "PASSERELLE_CONCURRENCY": "many"}, []string{"work"}, `PASSERELLE_CONCURRENCY: "many" is not an integer`},
		{"bad log level", map[string]string{"PASSERELLE_DEV": "1"}, []string{"migrate", "--log-level", "loud"}, "PASSERELLE_LOG_LEVEL"},
		{"unknown command", nil, []string{"fly"}, `unknown command "fly"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("%v: no error, want %q", tc.args, tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error = %q, want one line containing %q", msg, tc.want)
			}
		})
	}
}

func TestConfigErrorsAreUsageErrors(t *testing.T) {
	_, err := runCmd(t, nil, "serve")
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v (%T), want a usageError (exit status 2)", err, err)
	}
}

func TestMigrateIsANoOpTheSecondTime(t *testing.T) {
	testenv.MustStore(t) // applies the schema
	out, err := runCmd(t, map[string]string{"PASSERELLE_SECRET_KEY": goodKey, "PASSERELLE_NEO4J_URI": testenv.Neo4jURI()}, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "schema up to date" {
		t.Fatalf("migrate printed %q", out)
	}
}

func TestKeyFormats(t *testing.T) {
	for _, tc := range []struct{ name, key string }{
		{"hex", "3031323334353637383961626364656630313233343536373839616263646566"},
		{"base64", goodKey},
		{"base64url raw", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := decodeKey(tc.key)
			if err != nil || string(b) != "0123456789abcdef0123456789abcdef" {
				t.Fatalf("decodeKey = %q, %v", b, err)
			}
		})
	}
}
