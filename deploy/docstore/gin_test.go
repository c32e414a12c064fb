package main

import (
	"strings"
	"testing"
)

func TestGinStatementForAField(t *testing.T) {
	name, sql := ginStatement("shop", "orders_1a2b3c4d", []string{"_id"})
	want := `CREATE INDEX IF NOT EXISTS "` + name + `" ON "shop"."orders_1a2b3c4d" USING gin ((_jsonb -> '_id')) ` +
		`WITH (fastupdate = off)`
	if sql != want {
		t.Fatalf("got  %s\nwant %s", sql, want)
	}
	if !strings.HasPrefix(name, "orders_1a2b3c4d_") || !strings.HasSuffix(name, "_gin") {
		t.Fatalf("name %q", name)
	}
}

func TestGinStatementForACompoundIndexAndADottedPath(t *testing.T) {
	_, sql := ginStatement("shop", "orders", []string{"owner", "address.city"})
	if !strings.Contains(sql, `USING gin ((_jsonb -> 'owner'), (_jsonb #> '{"address","city"}'::text[]))`) {
		t.Fatal(sql)
	}
}

func TestGinStatementQuotesWhatUsersWrite(t *testing.T) {
	_, sql := ginStatement(`we"ird`, "t", []string{`it's`, `a"b.c,d}`})
	for _, part := range []string{
		`ON "we""ird"."t"`,
		`(_jsonb -> 'it''s')`,
		`(_jsonb #> '{"a\"b","c,d}"}'::text[])`,
	} {
		if !strings.Contains(sql, part) {
			t.Errorf("%s\nlacks %s", sql, part)
		}
	}
}

func TestGinIndexNamesAreStableDistinctAndFitPostgreSQL(t *testing.T) {
	long := strings.Repeat("x", 63)
	a1, _ := ginStatement("db", long, []string{"a"})
	a2, _ := ginStatement("db", long, []string{"a"})
	b, _ := ginStatement("db", long, []string{"b"})
	ab, _ := ginStatement("db", long, []string{"a", "b"})
	if a1 != a2 {
		t.Error("the same index got two names: IF NOT EXISTS would not recognise it")
	}
	if a1 == b || a1 == ab || b == ab {
		t.Error("different indexes share a name: one would never be created")
	}
	for _, n := range []string{a1, b, ab} {
		if len(n) > maxIdentifier {
			t.Errorf("%q is longer than %d bytes: PostgreSQL would truncate it", n, maxIdentifier)
		}
	}
}

func TestTheCacheForgetsDroppedCollectionsAndDatabases(t *testing.T) {
	g := newGinIndexer(nil, nil)
	remember := func(db, coll string) {
		if g.done[db] == nil {
			g.done[db] = map[string]map[string]bool{}
		}
		g.done[db][coll] = map[string]bool{fieldsKey([]string{"_id"}): true}
	}
	known := func(db, coll string) bool { return len(g.missing(db, coll, [][]string{{"_id"}})) == 0 }

	remember("shop", "a")
	remember("shop", "b")
	remember("shop", "c")
	remember("other", "a")
	if !known("shop", "a") || known("shop", "z") {
		t.Fatal("cache lookup is wrong")
	}

	g.forget(request{name: "drop", db: "shop", collection: "a"})
	if known("shop", "a") || !known("shop", "b") || !known("other", "a") {
		t.Error("drop forgot the wrong collections")
	}
	g.forget(request{name: "renameCollection", db: "admin", renamed: []string{"shop.b", "shop.c"}})
	if known("shop", "b") || known("shop", "c") {
		t.Error("renameCollection left a stale entry")
	}
	remember("shop", "d")
	g.forget(request{name: "dropDatabase", db: "shop"})
	if known("shop", "d") || !known("other", "a") {
		t.Error("dropDatabase forgot the wrong database")
	}
}
