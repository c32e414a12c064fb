// Command docstore is the local document store: FerretDB 1.24.2 over PostgreSQL behind a
// front that serialises writes.
//
// It embeds github.com/FerretDB/FerretDB/ferretdb (a plain `go install .../cmd/ferretdb`
// binary crashes at start: its generated version file is not part of the module zip).
// FerretDB listens on a private Unix socket; this program's TCP front relays the MongoDB
// wire protocol to it unchanged, and adds three things FerretDB 1.x lacks:
//
//   - Single-document atomicity. FerretDB 1.x applies update, findAndModify and delete as
//     read-modify-write without isolation, on PostgreSQL too (measured: 200 concurrent $inc
//     on one document left 16). The front lets one write command per collection run at a
//     time; frames it cannot classify are exclusive with all writes (see locks.go).
//   - No pool deadlock. FerretDB needs up to two pool connections per command (one holds the
//     query, one writes), and statements+1 for an update command (batch.go), so with its pool
//     full of such half-served commands it hangs for good. The front admits commands by that
//     cost against a budget below the pool size, caps hello's maxWriteBatchSize and splits
//     larger updates (front.go, batch.go).
//   - Usable indexes. FerretDB pushes top-level equalities down as `_jsonb->'f' @> value`,
//     but its createIndexes builds btree indexes, which cannot serve `@>`. The front adds a
//     GIN twin beside every index that passes through it (see gin.go).
//
// Not built with profile-guided optimisation: a default.pgo took 3 % off an update
// but added 16 s to a cold build (68 vs 52 s, measured 28 November); -pprof takes the profile if wanted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	pgURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:5432/ferretdb",
		"PostgreSQL database FerretDB stores its documents in")
	socket := flag.String("socket", "docstore.sock", "private Unix socket between the front and FerretDB")
	poolMax := flag.Int("pool-max-conns", 100, "FerretDB's PostgreSQL connection pool size")
	inFlight := flag.Int("max-in-flight", 32, "commands relayed to FerretDB at once (keep below pool-max-conns/2)")
	maxBatch := flag.Int("max-write-batch", 48,
		"most statements per update relayed, and hello's maxWriteBatchSize (below 2*max-in-flight)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	pprofAddr := flag.String("pprof", "", "serve Go's profiles (net/http/pprof) on this address; off if empty")
	gcPercent := flag.Int("gc-percent", 400,
		"Go's GOGC: heap growth between collections, in percent of the live heap (the GOGC variable wins if set)")
	flag.Parse()

	// FerretDB allocates a lot per command (its JSON decoding of every document read, its
	// resource tracking with finalizers): at Go's default of 100 the collector and its
	// sweeper took ~15 % of the process's CPU under the store benchmark. Its live heap is
	// small (tens of MiB), so collecting less often costs little memory.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(*gcPercent)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// The front's connection budget (front.go): max-in-flight ordinary commands of two
	// connections each, or fewer, larger updates.
	budget := 2 * *inFlight
	if *inFlight < 1 || budget >= *poolMax {
		log.Fatalf("max-in-flight %d must be positive and below half of pool-max-conns %d", *inFlight, *poolMax)
	}
	if *maxBatch < 1 || *maxBatch+1 > budget {
		log.Fatalf("max-write-batch %d must be positive and at most 2*max-in-flight-1 = %d", *maxBatch, budget-1)
	}

	ferretURL, err := withQuery(*pgURL, "pool_max_conns", strconv.Itoa(*poolMax))
	if err != nil {
		log.Fatal(err)
	}
	indexURL, err := withQuery(*pgURL, "pool_max_conns", "4")
	if err != nil {
		log.Fatal(err)
	}

	if *pprofAddr != "" {
		go func() { logger.Warn("pprof server ended", "error", http.ListenAndServe(*pprofAddr, nil)) }()
	}

	_ = os.Remove(*socket)

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{Unix: *socket},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: ferretURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	pool, err := pgxpool.New(ctx, indexURL)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	if err := waitForSocket(*socket, 30*time.Second); err != nil {
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

	logger.Info("docstore listening", "addr", *listen)

	front := newFront(*socket, int64(budget), *maxBatch, newGinIndexer(pool, logger), logger)
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			logger.Warn("accept failed", "error", err)
			continue
		}
		go front.serve(ctx, client)
	}

	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// withQuery returns the URL with one query parameter set.
func withQuery(raw, key, value string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad PostgreSQL URL: %w", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
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
