package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/workers"
)

// --- upload --------------------------------------------------------------

// uploadData lists the member's archives for the upload page.
func (w *Web) uploadData(c *gin.Context) (any, error) {
	s, _ := sessionOf(c)
	return w.Store.MemberImportState(c.Request.Context(), s.Member)
}

// zipMagic starts an archive's ZIP; anything else must be the .js files of
// its data/ folder (window.YTD.<name>.part0 = [...]), which the import
// checks entry by entry.
var zipMagic = []byte("PK\x03\x04")

// upload takes the archive as one ZIP, or as the .js files of its data/
// folder (packed into a ZIP here, as they stream in), bounded by
// MaxUpload, and queues its import. Nothing is read into memory whole.
func (w *Web) upload(c *gin.Context) {
	s, _ := sessionOf(c)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, w.MaxUpload+1<<20)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		w.fail(c, http.StatusBadRequest, "error.upload_type", nil)
		return
	}
	pr, pw := io.Pipe()
	saved := make(chan struct {
		name string
		err  error
	}, 1)
	go func() {
		name, err := w.Uploads.Save(pr)
		pr.CloseWithError(err)
		saved <- struct {
			name string
			err  error
		}{name, err}
	}()
	var check func(string) bool
	if c.GetBool("csrf_in_body") {
		cookie, _ := c.Cookie(csrfCookie)
		check = func(sent string) bool { return cookie != "" && constantEqual(cookie, sent) }
	}
	files, err := packUpload(mr, pw, w.MaxUpload, check)
	pw.CloseWithError(err)
	res := <-saved
	if err == nil {
		err = res.err
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || errors.Is(err, errTooLarge):
		if res.name != "" {
			_ = w.Uploads.Remove(res.name)
		}
		w.fail(c, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"MB": w.MaxUpload >> 20})
		return
	case errors.Is(err, errCSRF):
		w.fail(c, http.StatusForbidden, "error.csrf", nil)
		return
	case errors.Is(err, errNotArchive) || files == 0:
		if res.name != "" {
			_ = w.Uploads.Remove(res.name)
		}
		w.fail(c, http.StatusUnsupportedMediaType, "error.upload_type", nil)
		return
	case err != nil:
		w.error(c, err)
		return
	}
	task, err := workers.NewArchiveImportTask(workers.ArchiveImportPayload{Member: s.Member, Upload: res.name})
	if err != nil {
		w.error(c, err)
		return
	}
	if _, err := w.Queue.EnqueueContext(c.Request.Context(), task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		_ = w.Uploads.Remove(res.name)
		w.error(c, err)
		return
	}
	w.done(c, "/imports/"+res.name, gin.H{"upload": res.name, "events": "/api/imports/" + res.name + "/events"})
}

var (
	errTooLarge   = errors.New("upload too large")
	errNotArchive = errors.New("not an X archive")
)

// packUpload writes the upload to out as one ZIP: a ZIP part is copied as
// it is (it must be the only file); the .js files of a data/ folder become
// entries of a new ZIP; other files of the folder (media) are skipped. The
// csrf field must come first unless the request carried the header. It
// returns the number of files taken.
func packUpload(mr *multipart.Reader, out io.Writer, max int64, csrf func(string) bool) (int, error) {
	cw := &capWriter{w: out, left: max}
	var zw *zip.Writer
	files, single := 0, false
	checked := csrf == nil
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return files, err
		}
		switch part.FormName() {
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			checked = checked || csrf(string(b))
			continue
		case "archive":
		default:
			continue
		}
		if !checked {
			return files, errCSRF
		}
		br := bufio.NewReader(part)
		head, _ := br.Peek(16)
		head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
		name := path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
		switch {
		case bytes.HasPrefix(head, zipMagic):
			if files > 0 {
				return files, errNotArchive // a ZIP must come alone
			}
			if _, err := io.Copy(cw, br); err != nil {
				return files, err
			}
			files, single = 1, true
		case strings.HasSuffix(name, ".js") && !single:
			if zw == nil {
				zw = zip.NewWriter(cw)
			}
			f, err := zw.Create("data/" + name)
			if err != nil {
				return files, err
			}
			if _, err := io.Copy(f, br); err != nil {
				return files, err
			}
			files++
		case len(head) == 0:
			// an empty file input
		default:
			if files == 0 && !strings.Contains(part.FileName(), "/") && part.FileName() != "" {
				return files, errNotArchive // one file, neither ZIP nor .js
			}
			// media and other files of a data/ folder: not needed
		}
	}
	if !checked {
		return files, errCSRF
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return files, err
		}
	}
	return files, nil
}

var errCSRF = errors.New("missing csrf token")

// capWriter fails with errTooLarge once more than left bytes are written.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, errTooLarge
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

// --- import progress -----------------------------------------------------

// importStatus reads an import task's state and progress; a task of
// another member is not found.
func (w *Web) importStatus(c *gin.Context) (gin.H, error) {
	s, _ := sessionOf(c)
	upload := c.Param("upload")
	if _, err := w.Uploads.Path(upload); err != nil {
		return nil, engine.Errorf(engine.ENOTFOUND, "no such import")
	}
	info, err := w.Inspector.GetTaskInfo(workers.QueueCritical, "import:"+s.Member+":"+upload)
	if err != nil {
		return nil, engine.Errorf(engine.ENOTFOUND, "no such import")
	}
	var st workers.ImportStatus
	_ = json.Unmarshal(info.Result, &st)
	state := "running"
	switch {
	case info.State == asynq.TaskStateCompleted:
		state = "done"
	case info.State == asynq.TaskStateArchived || st.Error != "":
		state = "failed"
	case info.State == asynq.TaskStatePending || info.State == asynq.TaskStateScheduled:
		state = "queued"
	case info.State == asynq.TaskStateRetry:
		state = "retrying"
	}
	percent := 0
	if st.Progress.Total > 0 {
		percent = min(100, st.Progress.Done*100/st.Progress.Total)
	}
	if state == "done" {
		percent = 100
	}
	return gin.H{"upload": upload, "state": state, "phase": st.Progress.Phase, "done": st.Progress.Done,
		"total": st.Progress.Total, "percent": percent, "error": st.Error, "result": st.Result}, nil
}

func (w *Web) importData(c *gin.Context) (any, error) { return w.importStatus(c) }

func (w *Web) apiImport(c *gin.Context) {
	st, err := w.importStatus(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// importEvents streams an import's progress as server-sent events until it
// ends (or the client goes away): what the upload page shows live.
func (w *Web) importEvents(c *gin.Context) {
	st, err := w.importStatus(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		b, _ := json.Marshal(st)
		if string(b) != last {
			fmt.Fprintf(c.Writer, "event: progress\ndata: %s\n\n", b)
			c.Writer.Flush()
			last = string(b)
		}
		if st["state"] == "done" || st["state"] == "failed" {
			return
		}
		select {
		case <-c.Request.Context().Done():
			return
		case <-tick.C:
		}
		if st, err = w.importStatus(c); err != nil {
			return
		}
	}
}
