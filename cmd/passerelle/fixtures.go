package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/passerelle-social/passerelle/fixtures"
)

func runFixtures(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "world" {
		return runFixturesWorld(ctx, env, args[1:])
	}
	if len(args) == 0 || args[0] != "archive" {
		return usageError{errors.New("usage: passerelle fixtures archive [flags] OUT | fixtures world --out DIR")}
	}
	fs := newFlagSet("fixtures archive", env)
	var opt fixtures.ArchiveOptions
	fs.Int64Var(&opt.Seed, "seed", 1, "random seed: the same seed gives the same archive")
	fs.IntVar(&opt.Account, "account", 0, "owner's account number (its X id is fixtures.XID(n))")
	fs.IntVar(&opt.Following, "following", 200, "accounts followed")
	fs.IntVar(&opt.Followers, "followers", 200, "followers")
	fs.IntVar(&opt.Blocks, "blocks", 0, "blocked accounts")
	fs.IntVar(&opt.Mutes, "mutes", 0, "muted accounts")
	fs.IntVar(&opt.Universe, "universe", 0, "ids are drawn from accounts 0..N-1 (default 10x the follows)")
	fs.StringVar(&opt.Variant, "variant", "2024", "2020, 2024, folder, loose, parts, ... (see fixtures.ArchiveOptions)")
	fs.Int64Var(&opt.MediaBytes, "media-bytes", 0, "bytes of filler media entries")
	if err := parse(fs, nil, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("fixtures archive: give one OUT path")}
	}
	info, err := fixtures.WriteArchive(fs.Arg(0), opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: X account %s (@%s), following %d, followers %d\n",
		info.Path, info.AccountID, info.Username, info.Counts["following"], info.Counts["follower"])
	return nil
}

func runFixturesWorld(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("fixtures world", env)
	var opt fixtures.WorldOptions
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed: the same seed gives the same world")
	fs.IntVar(&opt.Members, "members", 100_000, "members")
	fs.IntVar(&opt.Heavy, "heavy", 1000, "members with about 2,000 followees")
	fs.IntVar(&opt.MeanFollowees, "mean-followees", 84, "mean followees of the other members")
	out := fs.String("out", "", "folder for the neo4j-admin import CSV files (required)")
	if err := parse(fs, nil, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("fixtures world: --out is required")}
	}
	w := fixtures.NewWorld(opt)
	if err := w.WriteCSV(*out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d members, %d X accounts, %d FOLLOWS edges\n", *out, w.Opt.Members, w.Opt.Universe, w.Edges())
	return nil
}
