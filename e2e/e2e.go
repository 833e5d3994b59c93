// Package e2e runs browser scenarios against a real passerelle: StartServe
// starts `passerelle serve` on the test services, RunScenario runs one of the
// Node scripts of this folder (smoke.mjs, ...) in headless chromium through
// playwright-core (lib.mjs has their helpers).
//
// The browser is Debian's chromium and playwright-core comes from
// e2e/package-lock.json: `scripts/browser.sh install` provides both, and
// `make test` runs it. Without them the tests fail, never skip: a skipped
// browser test would look like a passing one.
//
// Screenshots are kept after the run in .local/screenshots/<test name>/.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/internal/testenv"
)

const howToInstall = "run scripts/browser.sh install (make test does it)"

// ScenarioTimeout bounds one RunScenario.
const ScenarioTimeout = 10 * time.Minute

// Root is the repository root: the nearest folder above the working
// directory whose go.mod is this module's.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && moduleLine.Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/passerelle-social/passerelle above the working directory")
		}
		dir = parent
	}
}

func mustRoot(t testing.TB) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Chromium is the browser the scenarios launch: PASSERELLE_CHROMIUM, or
// chromium on the PATH (Debian's /usr/bin/chromium).
func Chromium() (string, error) {
	if p := os.Getenv("PASSERELLE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("PASSERELLE_CHROMIUM=%s: %v", p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", errors.New("chromium not found on the PATH")
	}
	return p, nil
}

// RequireBrowser fails t (never skips it) when node, chromium or
// e2e/node_modules is missing, or node_modules was installed from another
// package-lock.json. RunScenario checks this itself; a test calls it first to
// fail before it starts anything.
func RequireBrowser(t testing.TB) {
	t.Helper()
	checkInstall(t, mustRoot(t))
}

func checkInstall(t testing.TB, root string) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found on the PATH: install Node.js 20 or newer, then %s", howToInstall)
	}
	if chromium, err = Chromium(); err != nil {
		t.Fatalf("%v: %s", err, howToInstall)
	}
	dir := filepath.Join(root, "e2e")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("e2e/node_modules has no playwright-core: %s", howToInstall)
	}
	// scripts/browser.sh keeps a copy of the lock it installed.
	want, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "node_modules", ".passerelle-lock.json")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("e2e/node_modules is older than e2e/package-lock.json: %s", howToInstall)
	}
	return node, chromium
}

var (
	cleanedMu sync.Mutex
	cleaned   = map[string]bool{}
)

// ShotsDir is .local/screenshots/<test name> under the repository root,
// emptied the first time a test asks for it in this process and kept after
// the run so people can look at the pictures.
func ShotsDir(t testing.TB) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(t.Name(), "_")
	dir := filepath.Join(mustRoot(t), ".local", "screenshots", name)
	cleanedMu.Lock()
	defer cleanedMu.Unlock()
	if !cleaned[dir] {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		cleaned[dir] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// RunScenario runs `node SCRIPT` in the e2e folder (SCRIPT relative to it,
// e.g. "smoke.mjs") against baseURL, with PASSERELLE_URL, PASSERELLE_SHOTS
// (ShotsDir) and PASSERELLE_CHROMIUM set, and env ("KEY=value") added. Node's
// output goes to t.Log line by line; a non-zero exit fails the test with
// node's error output. Missing chromium or node_modules fail the test too.
func RunScenario(t *testing.T, baseURL, script string, env ...string) {
	t.Helper()
	root := mustRoot(t)
	node, chromium := checkInstall(t, root)
	shots := ShotsDir(t)

	ctx, cancel := context.WithTimeout(t.Context(), ScenarioTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(os.Environ(),
		"PASSERELLE_URL="+baseURL, "PASSERELLE_SHOTS="+shots, "PASSERELLE_CHROMIUM="+chromium,
		"NO_COLOR=1", "FORCE_COLOR=0")
	cmd.Env = append(cmd.Env, env...)
	// Node starts chromium: on a time-out end the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second

	var stderr lockedBuffer
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	var wg sync.WaitGroup
	logLines := func(r io.Reader, keep *lockedBuffer) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := ansi.ReplaceAllString(sc.Text(), "")
			t.Log("node: " + line)
			if keep != nil {
				keep.WriteLine(line)
			}
		}
		io.Copy(io.Discard, r)
	}
	wg.Add(2)
	go logLines(outR, nil)
	go logLines(errR, &stderr)

	started := time.Now()
	err := cmd.Run()
	outW.Close()
	errW.Close()
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%v (time-out after %s)", err, ScenarioTimeout)
		}
		t.Fatalf("node %s: %v\n%s\nscreenshots in %s", script, err, strings.TrimSpace(stderr.String()), shots)
	}
	t.Logf("node %s: ok in %s, screenshots in %s", script, time.Since(started).Round(time.Millisecond), shots)
}

// ansi matches the colour codes Playwright writes in its call logs.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteLine(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
	l.b.WriteByte('\n')
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Binary builds ./cmd/passerelle once per test process, into
// .local/e2e/passerelle (written aside, then renamed, so that test processes
// running side by side never overwrite a binary that runs).
func Binary(t testing.TB) string {
	t.Helper()
	root := mustRoot(t)
	buildOnce.Do(func() {
		dir := filepath.Join(root, ".local", "e2e")
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		bin := filepath.Join(dir, "passerelle")
		tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "./cmd/passerelle")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			buildErr = fmt.Errorf("go build ./cmd/passerelle: %v\n%s", err, out)
			return
		}
		if buildErr = os.Rename(tmp, bin); buildErr == nil {
			buildBin = bin
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

var moduleLine = regexp.MustCompile(`(?m)^module\s+github\.com/passerelle-social/passerelle\s*$`)

var servingLine = regexp.MustCompile(`^passerelle: serving on (http://\S+)$`)

// StartServe starts `passerelle serve --dev` on a free port of 127.0.0.1,
// against the test Neo4j and Redis (PASSERELLE_TEST_NEO4J_URI,
// PASSERELLE_TEST_REDIS_ADDR: see internal/testenv), with its uploads in a
// temporary folder and extraEnv ("KEY=value", last wins) added. It returns
// the base URL, e.g. http://127.0.0.1:41234, once the server listens, and
// stops the process when the test ends; its log is shown when the test
// failed.
func StartServe(t testing.TB, extraEnv ...string) (baseURL string) {
	u, _ := start(t, servingLine, []string{"serve", "--dev", "--http-addr", "127.0.0.1:0"}, extraEnv)
	return u
}

var workingLine = regexp.MustCompile(`^(passerelle: worker running) `)

// StartWork starts `passerelle work --dev` on the same test services (no
// metrics listener), stopped when the test ends.
func StartWork(t testing.TB, extraEnv ...string) {
	start(t, workingLine, []string{"work", "--dev", "--metrics-addr="}, extraEnv)
}

// StartStack starts serve and work sharing one secret key (what serve
// seals, work opens) and one upload folder, and returns serve's URL.
//
// Serve listens on a port chosen here, so that both know the site's public
// URL (the OAuth clients' callbacks and client id derive from it).
func StartStack(t testing.TB, extraEnv ...string) (baseURL string) {
	u, _ := StartStackProcess(t, extraEnv...)
	return u
}

// StartStackProcess is StartStack that also returns serve's process id
// (the load benchmark reads its CPU time).
func StartStackProcess(t testing.TB, extraEnv ...string) (baseURL string, servePID int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append([]string{"PASSERELLE_SECRET_KEY=" + strings.Repeat("5a", 32),
		"PASSERELLE_UPLOAD_DIR=" + filepath.Join(t.TempDir(), "uploads"),
		"PASSERELLE_PUBLIC_URL=http://" + addr + "/"}, extraEnv...)
	StartWork(t, env...)
	return start(t, servingLine, []string{"serve", "--dev", "--http-addr", addr}, env)
}

// start runs the binary with args until the test ends and returns the first
// submatch of the stdout line that says it is ready, and the process id.
func start(t testing.TB, ready *regexp.Regexp, args, extraEnv []string) (string, int) {
	t.Helper()
	bin := Binary(t)
	work := t.TempDir()
	name := "passerelle " + args[0]
	cmd := exec.Command(bin, args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"PASSERELLE_NEO4J_URI="+testenv.Neo4jURI(), "PASSERELLE_REDIS_ADDR="+testenv.RedisAddr(),
		"PASSERELLE_NEO4J_USER="+os.Getenv("PASSERELLE_TEST_NEO4J_USER"),
		"PASSERELLE_NEO4J_PASSWORD="+os.Getenv("PASSERELLE_TEST_NEO4J_PASSWORD"),
		"PASSERELLE_UPLOAD_DIR="+filepath.Join(work, "uploads"))
	cmd.Env = append(cmd.Env, extraEnv...)
	var logs lockedBuffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logs.WriteLine(sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		io.Copy(&logs, stdout)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(25 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})

	select {
	case u := <-urlc:
		t.Logf("%s: %s (Neo4j %s, Redis %s)", name, u, testenv.Neo4jURI(), testenv.RedisAddr())
		return u, cmd.Process.Pid
	case <-exited:
		t.Fatalf("%s exited during start (%v); its log follows", name, cmd.ProcessState)
	case <-time.After(90 * time.Second):
		t.Fatalf("%s was not ready in 90s; its log follows", name)
	}
	return "", 0
}
