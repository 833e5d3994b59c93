package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/internal/testenv"
)

func TestConnectAndReconnectCommands(t *testing.T) {
	testenv.MustGraph(t)
	testenv.MustRedis(t)
	acct := testenv.MustPDSAccount(t, "cli")
	env := map[string]string{"PASSERELLE_SECRET_KEY": goodKey, "PASSERELLE_NEO4J_URI": testenv.Neo4jURI(),
		"PASSERELLE_REDIS_ADDR": testenv.RedisAddr(), "PASSERELLE_PLC_URL": testenv.PLCURL()}
	if _, err := runCmd(t, env, "members", "connect", "--member", "ana", "--host", testenv.PDSURL(), "--identifier", acct.Handle); err == nil ||
		!strings.Contains(err.Error(), "needs") {
		t.Fatalf("connect without a password: %v", err)
	}
	// The member must exist: importing an archive or linking made them.
	if _, err := runCmd(t, env, "members", "connect", "--member", "ana", "--host", testenv.PDSURL(), "--identifier", acct.Handle, "--app-password", acct.Password); err == nil {
		t.Fatal("connected an unknown member")
	}
	testenv.Query(t, "CREATE (:Member {id: 'ana', auto_reconnect: true})", nil)
	if _, err := runCmd(t, env, "members", "connect", "--member", "ana", "--host", testenv.PDSURL(), "--identifier", acct.Handle, "--app-password", "wrong"); err == nil ||
		!strings.Contains(err.Error(), "sign-in failed") {
		t.Fatalf("wrong password: %v", err)
	}
	out, err := runCmd(t, env, "members", "connect", "--member", "ana", "--host", testenv.PDSURL(), "--identifier", acct.Handle, "--app-password", acct.Password)
	if err != nil || !strings.Contains(out, acct.DID) {
		t.Fatalf("connect: %q, %v", out, err)
	}
	// The app password is stored sealed, never in clear.
	rows := testenv.Query(t, "MATCH (:Member {id: 'ana'})-[u:USES]->() RETURN u.token_enc AS t, u.via AS via", nil)
	if tok, _ := rows[0]["t"].(string); !strings.HasPrefix(tok, "v1.") || strings.Contains(tok, acct.Password) || rows[0]["via"] != "app_password" {
		t.Fatalf("stored credentials: %v", rows)
	}
	out, err = runCmd(t, env, "reconnect", "--member", "ana", "--json", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Networks map[string]struct {
			Account string
			Targets int
		} `json:"networks"`
		DryRun bool `json:"dry_run"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || !plan.DryRun || plan.Networks["bluesky"].Account != acct.DID {
		t.Fatalf("reconnect --dry-run --json = %s, %v", out, err)
	}
}
