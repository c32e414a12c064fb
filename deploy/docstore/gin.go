package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// FerretDB 1.24's PostgreSQL backend keeps each MongoDB database as a schema of the same
// name, each collection as a table with one jsonb column, and the collection -> table
// mapping in <schema>._ferretdb_database_metadata, one row per collection:
// _jsonb = {"_id": <collection>, "table": <table>, ...}
// (internal/backends/postgresql/metadata/{metadata,registry}.go).
const (
	documentColumn = "_jsonb"
	metadataTable  = "_ferretdb_database_metadata"
	maxIdentifier  = 63 // PostgreSQL's NAMEDATALEN - 1
)

// ginStatement builds the GIN twin of a FerretDB index on fields of a table: one GIN
// index over the same expressions FerretDB's filter pushdown uses, so that
// `_jsonb->'f' @> value` (top-level field) and `_jsonb #> '{a,b}' @> value` (dotted path)
// can use it. Its name is derived from the table and fields, so re-running it is a no-op.
func ginStatement(schema, table string, fields []string) (name, sql string) {
	h := fnv.New64a()
	h.Write([]byte(table))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	suffix := fmt.Sprintf("_%016x_gin", h.Sum64())
	prefix := table
	if l := maxIdentifier - len(suffix); len(prefix) > l {
		prefix = prefix[:l]
	}
	name = prefix + suffix

	columns := make([]string, len(fields))
	for i, f := range fields {
		columns[i] = "(" + fieldExpression(f) + ")"
	}
	sql = fmt.Sprintf(
		"CREATE INDEX IF NOT EXISTS %s ON %s USING gin (%s) WITH (fastupdate = off)",
		pgx.Identifier{name}.Sanitize(),
		pgx.Identifier{schema, table}.Sanitize(),
		strings.Join(columns, ", "),
	)
	return name, sql
}

// fieldExpression is FerretDB's pushdown expression for a field: `_jsonb -> 'f'` for a
// top-level field, `_jsonb #> '{a,b}'::text[]` for a dotted path.
func fieldExpression(field string) string {
	parts := strings.Split(field, ".")
	if len(parts) == 1 {
		return documentColumn + " -> " + quoteLiteral(field)
	}
	elements := make([]string, len(parts))
	for i, p := range parts {
		elements[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
	}
	return documentColumn + " #> " + quoteLiteral("{"+strings.Join(elements, ",")+"}") + "::text[]"
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ginIndexer creates GIN twins in PostgreSQL and remembers which exist (per database,
// collection and field list), so that a write costs a map lookup once its collection's
// twins are there.
type ginIndexer struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu   sync.Mutex
	done map[string]map[string]map[string]bool // db -> collection -> fields key
}

func newGinIndexer(pool *pgxpool.Pool, logger *slog.Logger) *ginIndexer {
	return &ginIndexer{pool: pool, logger: logger, done: map[string]map[string]map[string]bool{}}
}

func fieldsKey(fields []string) string { return strings.Join(fields, "\x00") }

// afterWrite makes sure the collection's _id index (which every collection gets when it
// is created, implicitly or not) and, for createIndexes, the new indexes have their twins.
func (g *ginIndexer) afterWrite(ctx context.Context, r request) {
	wanted := append([][]string{{"_id"}}, r.indexes...)
	missing := g.missing(r.db, r.collection, wanted)
	if len(missing) == 0 {
		return
	}
	if err := g.create(ctx, r.db, r.collection, missing); err != nil {
		g.logger.Warn("GIN index not created", "db", r.db, "collection", r.collection, "error", err)
	}
}

func (g *ginIndexer) missing(db, collection string, wanted [][]string) [][]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out [][]string
	for _, fields := range wanted {
		if !g.done[db][collection][fieldsKey(fields)] {
			out = append(out, fields)
		}
	}
	return out
}

func (g *ginIndexer) create(ctx context.Context, db, collection string, indexes [][]string) error {
	table, err := g.table(ctx, db, collection)
	if err != nil || table == "" {
		return err // "": no such collection (yet), nothing to do and nothing to remember
	}
	for _, fields := range indexes {
		name, sql := ginStatement(db, table, fields)
		if _, err := g.pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		g.logger.Debug("GIN index ready", "db", db, "collection", collection, "fields", fields, "index", name)
		g.mu.Lock()
		if g.done[db] == nil {
			g.done[db] = map[string]map[string]bool{}
		}
		if g.done[db][collection] == nil {
			g.done[db][collection] = map[string]bool{}
		}
		g.done[db][collection][fieldsKey(fields)] = true
		g.mu.Unlock()
	}
	return nil
}

// table looks the collection's table up in FerretDB's metadata; "" if it does not exist.
func (g *ginIndexer) table(ctx context.Context, db, collection string) (string, error) {
	q := fmt.Sprintf(
		"SELECT %[1]s->>'table' FROM %[2]s WHERE %[1]s->>'_id' = $1",
		documentColumn, pgx.Identifier{db, metadataTable}.Sanitize(),
	)
	var table string
	err := g.pool.QueryRow(ctx, q, collection).Scan(&table)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000"): // no table / schema
		return "", nil
	case err != nil:
		return "", err
	}
	return table, nil
}

// forget drops what the cache knows about collections a drop, dropDatabase or
// renameCollection may have removed (their tables and so their GIN twins are gone).
func (g *ginIndexer) forget(r request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch r.name {
	case "dropDatabase":
		delete(g.done, r.db)
	case "drop":
		delete(g.done[r.db], r.collection)
	case "renameCollection":
		for _, full := range r.renamed {
			if db, collection, ok := strings.Cut(full, "."); ok {
				delete(g.done[db], collection)
			}
		}
	}
}
