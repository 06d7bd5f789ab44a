package studio

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// download answers a GET or HEAD of an open file with net/http's
// ServeContent — Range (206 with Content-Range, 416), Accept-Ranges,
// Last-Modified and ETag, If-Range and the other conditional headers — so
// that a player can seek in a recording. The file is not held in memory:
// its range is handed to fasthttp as the body stream, read after the
// handler returns, and closed then. headers (content type, disposition)
// are sent with a successful answer only. download takes f: it closes it.
func download(c *fiber.Ctx, f *os.File, headers map[string]string) error {
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("download: %w", err)
	}
	req := &http.Request{Method: c.Method(), Header: http.Header{}}
	for _, h := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := c.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if strings.Contains(req.Header.Get("Range"), ",") {
		// several ranges would be a multipart body written by a goroutine
		// of ServeContent; a server may ignore Range (RFC 9110 §14.2),
		// and players ask for one range at a time
		req.Header.Del("Range")
	}
	w := &captureWriter{header: http.Header{}}
	for k, v := range headers {
		w.header.Set(k, v)
	}
	// a strong validator for If-Range: a recording still being written
	// changes size and time
	w.header.Set("ETag", fmt.Sprintf(`"%x-%x"`, info.Size(), info.ModTime().UnixNano()))
	http.ServeContent(w, req, info.Name(), info.ModTime(), f)
	if w.status == 0 {
		w.status = http.StatusOK
	}

	if w.status >= 400 {
		_ = f.Close()
		if cr := w.header.Get("Content-Range"); cr != "" {
			c.Set(fiber.HeaderContentRange, cr)
		}
		if w.status == http.StatusRequestedRangeNotSatisfiable {
			return &statusError{w.status, "请求的字节范围超出录像文件"}
		}
		if w.status == http.StatusPreconditionFailed {
			return &statusError{w.status, "录像已变更，请重新请求"}
		}
		return fmt.Errorf("download %s: %d %s", info.Name(), w.status, bytes.TrimSpace(w.buf.Bytes()))
	}
	for k, vs := range w.header {
		for i, v := range vs {
			if i == 0 {
				c.Response().Header.Set(k, v)
			} else {
				c.Response().Header.Add(k, v)
			}
		}
	}
	c.Status(w.status)
	if w.body == nil {
		// HEAD, 304, an empty range, or ServeContent wrote the body itself
		_ = f.Close()
		if w.buf.Len() > 0 {
			return c.Send(w.buf.Bytes())
		}
		return nil
	}
	c.Context().SetBodyStream(&fileBody{Reader: w.body, f: f}, int(w.n))
	return nil
}

// captureWriter is the http.ResponseWriter ServeContent answers into. Its
// body is the file itself: ServeContent copies it with io.CopyN, which
// hands ReadFrom the file limited to the range, and that reader is kept
// (not read) to become the response's body stream.
type captureWriter struct {
	header http.Header
	status int
	body   io.Reader
	n      int64
	buf    bytes.Buffer // anything written directly (error texts)
}

func (w *captureWriter) Header() http.Header { return w.header }

func (w *captureWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(b)
}

// ReadFrom keeps the first limited reader it is given, and reports it as
// copied; anything else is copied into buf.
func (w *captureWriter) ReadFrom(r io.Reader) (int64, error) {
	w.WriteHeader(http.StatusOK)
	if lr, ok := r.(*io.LimitedReader); ok && w.body == nil && w.buf.Len() == 0 {
		w.body, w.n = lr, lr.N
		return lr.N, nil
	}
	return w.buf.ReadFrom(r)
}

// fileBody is a range of a file as a response body; fasthttp closes it
// once sent (or when the client is gone).
type fileBody struct {
	io.Reader
	f *os.File
}

func (b *fileBody) Close() error { return b.f.Close() }
