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
// unchanged while letting only one write command be in flight at a time. Reads stay
// concurrent. SQLite has a single writer anyway, so little throughput is lost.
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

	var writes sync.Mutex
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			logger.Warn("accept failed", "error", err)
			continue
		}
		go serve(client, socket, &writes, logger)
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
func serve(client net.Conn, socket string, writes *sync.Mutex, logger *slog.Logger) {
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

		isWrite := writeCommands[commandName(request)]
		if isWrite {
			writes.Lock()
		}
		err = exchange(request, client, server)
		if isWrite {
			writes.Unlock()
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

// commandName is the first key of an OP_MSG body section (the command), or "".
func commandName(frame []byte) string {
	// header(16) flags(4) kind(1)=0, then the body document: int32 length, element type, key.
	if opCode(frame) != opMsg || len(frame) < 27 || frame[20] != 0 {
		return ""
	}
	start := 26
	for i := start; i < len(frame); i++ {
		if frame[i] == 0 {
			return string(frame[start:i])
		}
	}
	return ""
}
