package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/xarchive"
	"github.com/passerelle-social/passerelle/workers"
)

// inputError is an unusable input (an archive that can't be read): exit
// status 2 with the reader's one line, like a usage error.
func inputError(err error) error {
	var xe *xarchive.Error
	switch {
	case errors.As(err, &xe), engine.ErrorCode(err) == engine.EINVALID, engine.ErrorCode(err) == engine.ETOOLARGE,
		errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return usageError{err}
	}
	return err
}

func runArchive(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "inspect" {
		return usageError{errors.New("usage: passerelle archive inspect [--json] PATH...")}
	}
	fs := newFlagSet("archive inspect", env)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, nil, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("archive inspect: give a ZIP, a folder, or .js files")}
	}
	a, err := xarchive.Open(ctx, fs.Args(), xarchive.DefaultLimits())
	if err != nil {
		return inputError(err)
	}
	defer a.Close()
	report, err := xarchive.Inspect(ctx, a)
	if err != nil {
		return inputError(err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, report)
	}
	if report.Account != nil {
		fmt.Fprintf(env.Stdout, "account     %s (@%s, %s)\n", report.Account.ID, report.Account.Username, report.Account.DisplayName)
	} else {
		fmt.Fprintln(env.Stdout, "account     none (no account.js)")
	}
	fmt.Fprintf(env.Stdout, "generated   %s\n", orDash(report.GeneratedAt))
	for _, k := range xarchive.Kinds() {
		fmt.Fprintf(env.Stdout, "%-13s %d", k, report.Counts[string(k)])
		if d := report.Duplicates[string(k)]; d > 0 {
			fmt.Fprintf(env.Stdout, " (+%d repeated)", d)
		}
		fmt.Fprintln(env.Stdout)
	}
	for _, w := range report.Warnings {
		fmt.Fprintln(env.Stdout, "warning: "+w)
	}
	return nil
}

func runImport(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("import", env)
	cfg.Register(fs)
	member := fs.String("member", "", "member id (created when new); default: a new random id")
	asJSON := fs.Bool("json", false, "print one JSON object")
	enqueue := fs.Bool("enqueue", false, "copy the archive to the upload folder and queue an archive:import task for a worker, instead of importing here")
	batch := fs.Int("batch", 10000, "ids per write")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("import: give a ZIP, a folder, or .js files")}
	}
	if *member == "" {
		*member = engine.NewMemberID()
	}
	if err := engine.CheckMemberID(*member); err != nil {
		return usageError{err}
	}
	log := cfg.Logger().With("process", "import")
	if *enqueue {
		return enqueueImport(ctx, env, &cfg, *member, fs.Args(), *asJSON)
	}

	store, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	if err := store.CheckSchema(ctx); err != nil {
		return err
	}
	im := &engine.Importer{Graph: store, Limits: xarchive.DefaultLimits(), BatchSize: *batch}
	var last time.Time
	progress := func(p engine.Progress) {
		if *asJSON || time.Since(last) < time.Second && p.Done != p.Total {
			return
		}
		last = time.Now()
		if p.Total > 0 {
			fmt.Fprintf(env.Stderr, "%-10s %d/%d\n", p.Phase, p.Done, p.Total)
		}
	}
	res, err := im.Import(ctx, *member, fs.Args(), progress)
	if err != nil {
		return inputError(err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, struct {
			Member    string         `json:"member"`
			XID       string         `json:"xid"`
			Archive   string         `json:"archive"`
			Counts    map[string]int `json:"counts"`
			Seconds   float64        `json:"seconds"`
			Unchanged bool           `json:"unchanged"`
			Warnings  []string       `json:"warnings"`
		}{res.Member, res.XID, res.Archive, res.Counts, res.Seconds, res.Unchanged, res.Warnings})
	}
	state := "imported"
	if res.Unchanged {
		state = "already imported, nothing changed"
	}
	fmt.Fprintf(env.Stdout, "member %s, X account %s, archive %s: %s in %.1fs (following %d, followers %d, blocks %d, mutes %d)\n",
		res.Member, res.XID, res.Archive, state, res.Seconds,
		res.Counts["following"], res.Counts["follower"], res.Counts["block"], res.Counts["mute"])
	for _, w := range res.Warnings {
		fmt.Fprintln(env.Stdout, "warning: "+w)
	}
	return nil
}

func enqueueImport(ctx context.Context, env *Env, cfg *Config, member string, paths []string, asJSON bool) error {
	if len(paths) != 1 {
		return usageError{errors.New("import --enqueue takes one ZIP or one folder")}
	}
	uploads := &workers.Uploads{Dir: cfg.UploadDir}
	name, err := uploads.Store(paths[0])
	if err != nil {
		return err
	}
	client := asynq.NewClient(cfg.RedisOpt())
	defer client.Close()
	task, err := workers.NewArchiveImportTask(workers.ArchiveImportPayload{Member: member, Upload: name})
	if err != nil {
		return err
	}
	info, err := client.EnqueueContext(ctx, task)
	if err != nil {
		return fmt.Errorf("PASSERELLE_REDIS_ADDR: enqueue: %s", oneLine(err))
	}
	if asJSON {
		return writeJSON(env.Stdout, map[string]string{"member": member, "task": info.ID, "upload": name})
	}
	fmt.Fprintf(env.Stdout, "queued archive:import %s for member %s (upload %s)\n", info.ID, member, name)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
