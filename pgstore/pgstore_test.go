package pgstore_test

import (
	"context"
	"testing"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp/leasetest"
	"github.com/pxekit/pxekit/pgstore"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

func open(t testing.TB, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestConformance runs the LeaseStore suite, with its Allocator cases,
// against a real PostgreSQL: a fresh database per case, reopened
// (schema migration included) for the restart cases.
func TestConformance(t *testing.T) {
	pg := pgtest.Start(t)
	leasetest.Run(t, func(t *testing.T) func() dhcp.LeaseStore {
		url := pg.NewDB(t)
		return func() dhcp.LeaseStore { return open(t, url) }
	})
}
