package workers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/passerelle-social/passerelle/engine"
)

// Uploads is the folder where uploaded archives wait for their import task.
// Tasks name an upload by its file name only, never by a path.
type Uploads struct {
	Dir string
}

var uploadName = regexp.MustCompile(`^up_[0-9a-f]{24}\.zip$`)

// Path returns the path of the named upload, refusing any name that is not
// one Store made (no separators, no "..").
func (u *Uploads) Path(name string) (string, error) {
	if !uploadName.MatchString(name) {
		return "", engine.Errorf(engine.EINVALID, "upload name %q is not one of ours", name)
	}
	return filepath.Join(u.Dir, name), nil
}

// Store copies the ZIP at src into the folder under a fresh name, written
// to a temporary file first so that a crash never leaves half a file under
// a real name. It returns the name.
func (u *Uploads) Store(src string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", engine.Errorf(engine.EINVALID, "open %s: %v", src, err)
	}
	defer in.Close()
	return u.Save(in)
}

// Save writes r, a ZIP, into the folder under a fresh name and returns it.
func (u *Uploads) Save(r io.Reader) (string, error) {
	if err := os.MkdirAll(u.Dir, 0o700); err != nil {
		return "", fmt.Errorf("PASSERELLE_UPLOAD_DIR: %v", err)
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	name := "up_" + hex.EncodeToString(b) + ".zip"
	tmp, err := os.CreateTemp(u.Dir, ".incoming-*")
	if err != nil {
		return "", fmt.Errorf("PASSERELLE_UPLOAD_DIR: %v", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store upload: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("store upload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(u.Dir, name)); err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	return name, nil
}

// Remove deletes the named upload; a missing file is not an error.
func (u *Uploads) Remove(name string) error {
	p, err := u.Path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
