// Package pgstore keeps the leases of pxekit DHCP servers in PostgreSQL,
// so that several servers hand out one address pool: a [dhcp.LeaseStore]
// that is also a [dhcp.Allocator].
//
// It is a Go module of its own (github.com/pxekit/pxekit/pgstore), so that
// importing pxekit's dhcp package does not pull a database driver in; it
// uses github.com/jackc/pgx/v5.
//
//	store, err := pgstore.Open(ctx, "postgres://pxekit@db.example/pxekit")
//	...
//	srv := &dhcp.Server{Pool: &dhcp.Pool{First: a, Last: b, Store: store}, ...}
//
// # Allocation with several servers
//
// Each address is one row of table pxekit_leases, keyed by the address.
// An address is taken by a conditional write ([Store.Claim]): one INSERT
// ... ON CONFLICT DO UPDATE ... WHERE the row is free for the client, so
// of several servers claiming one address at once exactly one succeeds
// (first write wins, as in Kea's lease back ends). Offers are rows too,
// held for the pool's OfferHold, so that two servers do not offer one
// address. Expiry is judged by the database's clock (now()), not by one
// server's. The search for a free address stays in each server's memory
// and touches one row per try: no server waits on a lock another holds
// for longer than one statement. Every write is committed before the
// method returns, so a server acknowledges no lease the database has not
// committed.
//
// # Schema
//
// [Open] and [New] create the tables, or migrate them to the current
// version, recorded in table pxekit_schema; the migration runs in one
// transaction under an advisory lock, so servers starting together
// migrate once.
//
// # Ended rows
//
// An offer row outlives its hold, and a lease row its expiry, until the
// address is claimed again; [Store.Purge] (or [Store.PurgeEvery], which
// examples/dhcpd runs every minute on each server) deletes them in
// bounded batches, judged by the database's clock, keeping expired
// leases for a while so that a returning client finds its old address.
//
// # Failover
//
// A Store is also a [dhcp.PeerStore]: [Store.Beat] and [Store.Peers] keep
// the servers' heartbeats in table pxekit_peers, aged by the database's
// clock, for [dhcp.Failover].
//
// A Store is safe for concurrent use.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pxekit/pxekit/dhcp"
)

// Store is a [dhcp.LeaseStore] and [dhcp.Allocator] in a PostgreSQL
// database.
type Store struct {
	pool  *pgxpool.Pool
	owned bool // Close closes pool
}

// Open connects to the database at url (a PostgreSQL connection string
// or URL, as pgx accepts it), migrates its schema and returns the store.
// It opens up to 32 connections unless url sets pool_max_conns. Close
// closes the connections.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// A DHCP server waits for the database on every DISCOVER and
		// REQUEST; PostgreSQL commits concurrent transactions together,
		// so more connections mean more exchanges per fsync.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// defaultMaxConns is Open's connection limit.
const defaultMaxConns = 32

// New returns a store on pool, whose schema it migrates. Close does not
// close pool.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if err := migrate(ctx, pool); err != nil {
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes the connections Open made.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// migrations are the schema versions, in order: migrations[i] takes the
// schema from version i to version i+1. Never change one that was
// released; add another.
var migrations = []string{
	// 1: leases, offers and conflicts, one row per address.
	`CREATE TABLE pxekit_leases (
		addr      inet PRIMARY KEY,
		client    bytea NOT NULL,       -- 0x01 || option 61, or 0x00 || chaddr
		mac       bytea NOT NULL,
		client_id bytea,
		expiry    timestamptz,          -- lease or offer end; NULL for a conflict
		hostname  text NOT NULL DEFAULT '',
		offered   boolean NOT NULL DEFAULT false,
		declined  timestamptz,          -- set: a conflict (DHCPDECLINE)
		updated   timestamptz NOT NULL DEFAULT now()
	);
	CREATE INDEX pxekit_leases_client ON pxekit_leases (client);`,
	// 2: heartbeats of the servers sharing the pool.
	`CREATE TABLE pxekit_peers (
		id   text PRIMARY KEY,
		beat timestamptz NOT NULL
	);`,
	// 3: the purge finds ended rows by their time, oldest first.
	`CREATE INDEX pxekit_leases_expiry ON pxekit_leases (expiry);
	CREATE INDEX pxekit_leases_declined ON pxekit_leases (declined) WHERE declined IS NOT NULL;`,
}

// SchemaVersion is the schema version this package creates and uses.
const SchemaVersion = 3

// migrateLock is the key of the advisory lock held while migrating.
const migrateLock = 0x7078656b6974 // "pxekit"

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS pxekit_schema (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM pxekit_schema`).Scan(&v); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("pgstore: database schema version %d is newer than this program's %d", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("pgstore: migrate to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM pxekit_schema`); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO pxekit_schema (version) VALUES ($1)`, v); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// clientKey is the client column of l: its client identifier when it has
// one, else its hardware address, with a tag byte so the two never meet.
func clientKey(mac net.HardwareAddr, cid []byte) []byte {
	if len(cid) > 0 {
		return append([]byte{1}, cid...)
	}
	return append([]byte{0}, mac...)
}

// nullTime is t, or NULL when t is zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func row(l dhcp.Lease, offer bool) []any {
	// mac is NOT NULL: a DHCPv6 lease often has no MAC, and is stored
	// with an empty one (dhcp6 keys its clients by IAID and DUID).
	return []any{l.Addr.String(), clientKey(l.MAC, l.ClientID), append([]byte{}, l.MAC...), nullBytes(l.ClientID),
		nullTime(l.Expiry), l.Hostname, offer && l.Declined.IsZero(), nullTime(l.Declined)}
}

const insert = `INSERT INTO pxekit_leases AS o (addr, client, mac, client_id, expiry, hostname, offered, declined)
	VALUES ($1::inet, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (addr) DO UPDATE SET `

// Load returns the leases and conflicts in the database (not the offers),
// expired ones too: the pool decides what expiry means.
func (s *Store) Load(ctx context.Context) ([]dhcp.Lease, error) {
	rows, err := s.pool.Query(ctx, `SELECT host(addr), mac, client_id, expiry, hostname, declined
		FROM pxekit_leases WHERE NOT offered ORDER BY addr`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: load: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLease)
	if err != nil {
		return nil, fmt.Errorf("pgstore: load: %w", err)
	}
	return out, nil
}

func scanLease(r pgx.CollectableRow) (dhcp.Lease, error) {
	var (
		addr           string
		mac, cid       []byte
		expiry, declin *time.Time
		l              dhcp.Lease
	)
	if err := r.Scan(&addr, &mac, &cid, &expiry, &l.Hostname, &declin); err != nil {
		return l, err
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return l, err
	}
	l.Addr, l.MAC = a, net.HardwareAddr(mac)
	if len(cid) > 0 {
		l.ClientID = cid
	}
	if expiry != nil {
		l.Expiry = *expiry
	}
	if declin != nil {
		l.Declined = *declin
	}
	return l, nil
}

// Save stores l whatever the row held before (a single server's write;
// [Store.Claim] is the conditional one).
func (s *Store) Save(ctx context.Context, l dhcp.Lease) error {
	_, err := s.pool.Exec(ctx, insert+`client = EXCLUDED.client, mac = EXCLUDED.mac, client_id = EXCLUDED.client_id,
		expiry = EXCLUDED.expiry, hostname = EXCLUDED.hostname, offered = EXCLUDED.offered,
		declined = EXCLUDED.declined, updated = now()`, row(l, false)...)
	if err != nil {
		return fmt.Errorf("pgstore: save %v: %w", l.Addr, err)
	}
	return nil
}

// Delete removes the row of addr, whoever holds it.
func (s *Store) Delete(ctx context.Context, addr netip.Addr) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM pxekit_leases WHERE addr = $1::inet`, addr.String()); err != nil {
		return fmt.Errorf("pgstore: delete %v: %w", addr, err)
	}
	return nil
}

// conflictRetry is how long a conflict keeps its address from other
// clients (dhcp.Pool retries a conflict no sooner either).
const conflictRetry = "10 minutes"

// Claim stores l (an offer with offer set) if its address is free for its
// client, by the rules of [dhcp.Allocator.Claim], in one statement; else
// it returns an error wrapping [dhcp.ErrAddrTaken].
func (s *Store) Claim(ctx context.Context, l dhcp.Lease, offer bool) error {
	// keep: an offer to the client that holds an unexpired lease leaves
	// the lease as it is.
	const keep = `(EXCLUDED.offered AND NOT o.offered AND o.declined IS NULL AND o.client = EXCLUDED.client AND o.expiry > now())`
	tag, err := s.pool.Exec(ctx, insert+`client = EXCLUDED.client, mac = EXCLUDED.mac, client_id = EXCLUDED.client_id,
		expiry = CASE WHEN `+keep+` THEN o.expiry ELSE EXCLUDED.expiry END,
		hostname = CASE WHEN `+keep+` THEN o.hostname ELSE EXCLUDED.hostname END,
		offered = CASE WHEN `+keep+` THEN false ELSE EXCLUDED.offered END,
		declined = EXCLUDED.declined, updated = now()
		WHERE o.client = EXCLUDED.client
		   OR (o.declined IS NULL AND o.expiry <= now())
		   OR o.declined <= now() - interval '`+conflictRetry+`'`, row(l, offer)...)
	if err != nil {
		return fmt.Errorf("pgstore: claim %v: %w", l.Addr, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: claim %v: %w", l.Addr, dhcp.ErrAddrTaken)
	}
	return nil
}

// Release removes the row of l.Addr if it is l's client's.
func (s *Store) Release(ctx context.Context, l dhcp.Lease) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM pxekit_leases WHERE addr = $1::inet AND client = $2`,
		l.Addr.String(), clientKey(l.MAC, l.ClientID)); err != nil {
		return fmt.Errorf("pgstore: release %v: %w", l.Addr, err)
	}
	return nil
}

// Lookup returns the client's unexpired lease with the latest expiry.
func (s *Store) Lookup(ctx context.Context, mac net.HardwareAddr, clientID []byte) (dhcp.Lease, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT host(addr), mac, client_id, expiry, hostname, declined
		FROM pxekit_leases WHERE client = $1 AND NOT offered AND declined IS NULL AND expiry > now()
		ORDER BY expiry DESC LIMIT 1`, clientKey(mac, clientID))
	if err != nil {
		return dhcp.Lease{}, false, fmt.Errorf("pgstore: lookup %v: %w", mac, err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLease)
	if errors.Is(err, pgx.ErrNoRows) {
		return dhcp.Lease{}, false, nil
	}
	if err != nil {
		return dhcp.Lease{}, false, fmt.Errorf("pgstore: lookup %v: %w", mac, err)
	}
	return l, true, nil
}

// Purge deletes up to limit rows that hold no address any more, oldest
// first, and returns how many it deleted: offers whose hold has ended,
// leases that expired more than keep ago (kept that long so that a
// returning client still finds its old address), and conflicts older
// than the 10 minutes a declined address is kept from clients. What has
// ended is judged by the database's clock (now()), as [Store.Claim]
// judges it, so that no server's clock decides. Rows another server's
// Purge is deleting at the same time are skipped, not waited for, and a
// row a claim takes in the meantime is kept: the statement checks each
// row again under its lock. A limit below 1 means 1000.
func (s *Store) Purge(ctx context.Context, keep time.Duration, limit int) (int64, error) {
	if limit < 1 {
		limit = 1000
	}
	const ended = `((declined IS NULL AND offered AND expiry <= now())
		OR (declined IS NULL AND NOT offered AND expiry <= now() - $1::interval)
		OR declined <= now() - interval '` + conflictRetry + `')`
	tag, err := s.pool.Exec(ctx, `DELETE FROM pxekit_leases WHERE addr IN (
			SELECT addr FROM pxekit_leases WHERE `+ended+`
			ORDER BY coalesce(declined, expiry) LIMIT $2 FOR UPDATE SKIP LOCKED)
		AND `+ended, fmt.Sprintf("%d microseconds", max(keep, 0).Microseconds()), limit)
	if err != nil {
		return 0, fmt.Errorf("pgstore: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PurgeEvery runs [Store.Purge] every interval until ctx ends, in
// batches of limit rows (repeated at once while a batch comes back
// full, so that one statement never holds many rows), and logs what it
// deleted at debug level and a failure as a warning to logger (nil
// discards). Each server sharing the database may run it: they do not
// wait for one another. An interval below 1 s means 1 minute.
func (s *Store) PurgeEvery(ctx context.Context, interval, keep time.Duration, limit int, logger *slog.Logger) {
	if interval < time.Second {
		interval = time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if limit < 1 {
		limit = 1000
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var total int64
		for {
			n, err := s.Purge(ctx, keep, limit)
			total += n
			if err != nil {
				if ctx.Err() == nil {
					logger.Warn("pgstore: purge failed; retrying at the next interval", "err", err, "interval", interval)
				}
				break
			}
			if n < int64(limit) {
				break
			}
		}
		if total > 0 {
			logger.Debug("pgstore: purged ended rows", "rows", total)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Beat records that server id is alive, at the database's clock (a row
// of pxekit_peers), for [dhcp.Failover].
func (s *Store) Beat(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO pxekit_peers (id, beat) VALUES ($1, now())
		ON CONFLICT (id) DO UPDATE SET beat = now()`, id); err != nil {
		return fmt.Errorf("pgstore: beat: %w", err)
	}
	return nil
}

// Peers returns every server that has beaten, with the time since its
// last beat on the database's clock.
func (s *Store) Peers(ctx context.Context) ([]dhcp.Peer, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, extract(epoch FROM now() - beat)::float8 FROM pxekit_peers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: peers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dhcp.Peer, error) {
		var p dhcp.Peer
		var age float64
		err := r.Scan(&p.ID, &age)
		p.Age = time.Duration(max(age, 0) * float64(time.Second))
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: peers: %w", err)
	}
	return out, nil
}

var (
	_ dhcp.Allocator = (*Store)(nil)
	_ dhcp.PeerStore = (*Store)(nil)
)
