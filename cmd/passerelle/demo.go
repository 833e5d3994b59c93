package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
)

// The demo world of `make up` (scripts/demo.sh): demo members, each with a
// synthetic X account (fixtures.XID(n)), linked to an account of the local
// PDS and one of the local GoToSocial; and the archive a visitor uploads,
// which follows them.

// demoVisitor is the X account number of the visitor's demo archive.
const demoVisitor = 9000

func runDemo(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: passerelle demo seed ACCOUNTS.csv | demo archive [--members N] OUT.zip")}
	}
	switch args[0] {
	case "seed":
		return withStore(ctx, env, "demo seed", args[1:], func(*flag.FlagSet) {}, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
			if fs.NArg() != 1 {
				return usageError{errors.New("demo seed: give the accounts CSV (n,did,handle,acct) that scripts/demo.sh writes")}
			}
			return demoSeed(ctx, env, s, fs.Arg(0))
		})
	case "archive":
		fs := newFlagSet("demo archive", env)
		members := fs.Int("members", 24, "demo members the archive follows (X accounts 1..N)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err}
		}
		if fs.NArg() != 1 {
			return usageError{errors.New("demo archive: give the ZIP to write")}
		}
		if err := demoArchive(fs.Arg(0), *members); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s: an X archive that follows the %d demo members (and 20 people who are not here)\n", fs.Arg(0), *members)
		return nil
	}
	return usageError{fmt.Errorf("demo %s: unknown (want seed or archive)", args[0])}
}

// demoSeed makes demo member n of every row: their archive (following the
// next five demo members, in a ring), their X sign-in (verified), and
// their PDS and GoToSocial accounts. It starts each member afresh, so a
// PDS restarted with new DIDs is seeded again cleanly.
func demoSeed(ctx context.Context, env *Env, s *cypher.Store, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return usageError{fmt.Errorf("%s: %v", path, err)}
	}
	dir, err := os.MkdirTemp("", "passerelle-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	total := len(rows)
	for _, r := range rows {
		if len(r) != 4 {
			return usageError{fmt.Errorf("%s: want n,did,handle,acct, got %q", path, r)}
		}
		n, err := strconv.Atoi(r[0])
		if err != nil || n < 1 {
			return usageError{fmt.Errorf("%s: %q is not a member number", path, r[0])}
		}
		member := fmt.Sprintf("demo-%02d", n)
		if err := s.DeleteMember(ctx, member, "demo"); err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
			return err
		}
		arc := filepath.Join(dir, member)
		if _, err := fixtures.WriteArchive(arc, fixtures.ArchiveOptions{Variant: "loose", Account: n, Username: fmt.Sprintf("demo_%02d", n),
			DisplayName: fmt.Sprintf("Demo %02d", n)}); err != nil {
			return err
		}
		var follows []string
		for k := 1; k <= 5 && k < total; k++ {
			follows = append(follows, fixtures.XID((n-1+k)%total+1))
		}
		if err := fixtures.WriteFile(filepath.Join(arc, "following.js"), fixtures.DataFile("following", follows...)); err != nil {
			return err
		}
		if _, err := (&engine.Importer{Graph: s}).Import(ctx, member, []string{arc}, nil); err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
		if err := s.ClaimX(ctx, member, fixtures.XID(n), engine.ViaXOAuth, "", "demo"); err != nil {
			return err
		}
		for _, l := range []engine.LinkRequest{
			{Member: member, Network: engine.Bluesky, Account: r[1], Handle: r[2], Via: "admin", Actor: "demo"},
			{Member: member, Network: engine.Mastodon, Account: r[3], Via: "admin", Actor: "demo"},
		} {
			if err := s.LinkAccount(ctx, l); err != nil {
				return fmt.Errorf("%s: %w", member, err)
			}
		}
	}
	fmt.Fprintf(env.Stdout, "demo: %d members, each on the local PDS and GoToSocial\n", total)
	return nil
}

// demoArchive writes the visitor's archive: X account demoVisitor follows
// demo members 1..members and 20 accounts that are nowhere.
func demoArchive(out string, members int) error {
	var follows []string
	for n := 1; n <= members; n++ {
		follows = append(follows, fixtures.XID(n))
	}
	for n := 0; n < 20; n++ {
		follows = append(follows, fixtures.XID(50_000+n))
	}
	return fixtures.WriteArchiveFollowing(out, fixtures.ArchiveOptions{Account: demoVisitor, Username: "you_on_x", DisplayName: "You"}, follows)
}
