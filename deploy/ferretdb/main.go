// Command ferretdb runs FerretDB 1.x (MongoDB wire protocol over SQLite) for local
// development and tests.
//
// It embeds github.com/FerretDB/FerretDB/ferretdb because a plain
// `go install .../cmd/ferretdb` binary crashes at start: its generated version file is
// not part of the module zip.
//
// FerretDB 1.x applies update, findAndModify and delete as read-modify-write without
// isolation, so concurrent writes to one document are lost (measured: 200 concurrent
// $inc on one document left 8). MongoDB guarantees single-document atomicity, and the
// platform's optimistic concurrency and outbox rely on it. So FerretDB listens on a
// private Unix socket, and this program's TCP front forwards the wire protocol
// unchanged while letting only one write command per collection be in flight at a time
// (a document lives in one collection, so that is all atomicity needs). Reads stay
// concurrent; if a command cannot be parsed, it takes a lock shared by everything.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const (
	opMsg        = 2013
	moreToCome   = 1 << 1
	maxFrameSize = 48 * 1024 * 1024
)

// Commands that modify documents: serialized so that each one is atomic.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
}

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "data", "directory holding the SQLite databases")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatal(err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	socket := filepath.Join(*dataDir, "ferretdb.sock")
	_ = os.Remove(socket)

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	if err := waitForSocket(socket, 10*time.Second); err != nil {
		log.Fatal(err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()

	logger.Info("FerretDB listening", "addr", *listen, "data", *dataDir)

	writes := &writeLocks{byCollection: map[string]*sync.Mutex{}}
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			logger.Warn("accept failed", "error", err)
			continue
		}
		go serve(client, socket, writes, logger)
	}

	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

func waitForSocket(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("FerretDB did not open %s within %s", path, timeout)
}

// serve relays one client connection. The wire protocol is request/reply per
// connection, so each request is forwarded and its reply read before the next.
// writeLocks holds one mutex per "<db>.<collection>" written to.
type writeLocks struct {
	mu           sync.Mutex
	byCollection map[string]*sync.Mutex
}

func (w *writeLocks) lock(key string) *sync.Mutex {
	w.mu.Lock()
	m, ok := w.byCollection[key]
	if !ok {
		m = &sync.Mutex{}
		w.byCollection[key] = m
	}
	w.mu.Unlock()
	return m
}

func serve(client net.Conn, socket string, writes *writeLocks, logger *slog.Logger) {
	defer client.Close()

	server, err := net.Dial("unix", socket)
	if err != nil {
		logger.Warn("cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()

	for {
		request, err := readFrame(client)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				logger.Debug("client read failed", "error", err)
			}
			return
		}

		var held *sync.Mutex
		if command, target := commandTarget(request); writeCommands[command] {
			held = writes.lock(target)
			held.Lock()
		}
		err = exchange(request, client, server)
		if held != nil {
			held.Unlock()
		}
		if err != nil {
			logger.Debug("relay failed", "error", err)
			return
		}
	}
}

// exchange forwards one request and relays its reply (several if the server streams).
func exchange(request []byte, client, server net.Conn) error {
	if _, err := server.Write(request); err != nil {
		return err
	}
	if opCode(request) == opMsg && flags(request)&moreToCome != 0 {
		return nil // fire-and-forget message: no reply comes
	}
	for {
		reply, err := readFrame(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if opCode(reply) != opMsg || flags(reply)&moreToCome == 0 {
			return nil
		}
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(size[:]))
	if n < 16 || n > maxFrameSize {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	frame := make([]byte, n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

func opCode(frame []byte) int32 { return int32(binary.LittleEndian.Uint32(frame[12:16])) }

func flags(frame []byte) uint32 {
	if len(frame) < 20 {
		return 0
	}
	return binary.LittleEndian.Uint32(frame[16:20])
}

// commandTarget parses an OP_MSG body section: the command (its first key) and
// "<db>.<collection>" (the first value and $db). Anything unexpected gives the target ""
// (one lock shared by all such commands), never a wrong but distinct one.
func commandTarget(frame []byte) (string, string) {
	// header(16) flags(4) kind(1)=0, then the body document.
	if opCode(frame) != opMsg || len(frame) < 26 || frame[20] != 0 {
		return "", ""
	}
	body := frame[21:]
	size := int(binary.LittleEndian.Uint32(body[:4]))
	if size < 5 || size > len(body) {
		return "", ""
	}
	var command, collection, db string
	pos := 4
	for first := true; pos < size-1; first = false {
		kind := body[pos]
		keyEnd := indexZero(body, pos+1)
		if keyEnd < 0 {
			return command, ""
		}
		key := string(body[pos+1 : keyEnd])
		value := keyEnd + 1
		if first {
			command = key
		}
		if kind == 0x02 && (first || key == "$db") {
			text, ok := bsonString(body, value)
			if !ok {
				return command, ""
			}
			if first {
				collection = text
			} else {
				db = text
			}
		}
		next, ok := skipValue(body, kind, value)
		if !ok {
			return command, ""
		}
		pos = next
	}
	if collection == "" || db == "" {
		return command, ""
	}
	return command, db + "." + collection
}

func indexZero(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] == 0 {
			return i
		}
	}
	return -1
}

func bsonString(b []byte, at int) (string, bool) {
	if at+4 > len(b) {
		return "", false
	}
	n := int(binary.LittleEndian.Uint32(b[at : at+4]))
	if n < 1 || at+4+n > len(b) {
		return "", false
	}
	return string(b[at+4 : at+4+n-1]), true
}

// skipValue returns the offset just past a value of BSON type kind starting at at.
func skipValue(b []byte, kind byte, at int) (int, bool) {
	fixed := map[byte]int{0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8,
		0x13: 16, 0xFF: 0, 0x7F: 0}
	if n, ok := fixed[kind]; ok {
		return at + n, at+n <= len(b)
	}
	if at+4 > len(b) {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[at : at+4]))
	switch kind {
	case 0x02, 0x0D, 0x0E: // string, JavaScript, symbol: int32 length + bytes
		return at + 4 + n, n >= 1 && at+4+n <= len(b)
	case 0x03, 0x04, 0x0F: // document, array, code with scope: int32 total length
		return at + n, n >= 5 && at+n <= len(b)
	case 0x05: // binary: int32 length + subtype + bytes
		return at + 5 + n, n >= 0 && at+5+n <= len(b)
	case 0x0C: // DBPointer: string + 12-byte id
		return at + 4 + n + 12, n >= 1 && at+4+n+12 <= len(b)
	case 0x0B: // regex: two C strings
		first := indexZero(b, at)
		if first < 0 {
			return 0, false
		}
		second := indexZero(b, first+1)
		return second + 1, second >= 0
	}
	return 0, false
}
