package eventstore

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pipe is a PostgreSQL connection of its own for one ledger's batches. The
// sequencer writes each batch to it as soon as the batch is prepared,
// behind those PostgreSQL is still running, and a reader settles them in
// order as their answers arrive: the database goes from one batch to the
// next without waiting for a round trip through Kontor. Each batch ends
// with a Sync, so PostgreSQL runs it as one implicit transaction; a
// failing batch is rolled back alone and the next one still runs (it then
// fails its check of the ledger's last log).
type pipe struct {
	conn     net.Conn
	frontend *pgproto3.Frontend
	buf      []byte
	// parsed holds the statements parsed on conn; only the sender uses it.
	parsed map[string]bool

	mu      sync.Mutex
	waiting []chan error // one per batch written and not yet answered
	err     error        // set once the connection is lost
}

// dialPipe opens a connection with config and starts reading its answers.
func dialPipe(ctx context.Context, config *pgconn.Config) (*pipe, error) {
	conn, err := pgconn.ConnectConfig(ctx, config)
	if err != nil {
		return nil, err
	}
	hc, err := conn.Hijack()
	if err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	p := &pipe{conn: hc.Conn, frontend: pgproto3.NewFrontend(hc.Conn, hc.Conn), parsed: map[string]bool{}}
	go p.read()
	return p, nil
}

// send writes queries as one batch and returns where its outcome will be
// delivered: nil once PostgreSQL committed it, its error otherwise.
// Statements met for the first time are parsed at the head of the batch,
// so that they exist even if the batch fails.
func (p *pipe) send(queries []wireQuery) <-chan error {
	done := make(chan error, 1)
	b := p.buf[:0]
	var err error
	for _, q := range queries {
		if !p.parsed[q.name] {
			p.parsed[q.name] = true
			b, err = (&pgproto3.Parse{Name: q.name, Query: q.sql, ParameterOIDs: q.oids}).Encode(b)
			if err != nil {
				done <- err
				return done
			}
		}
	}
	for _, q := range queries {
		b, err = (&pgproto3.Bind{PreparedStatement: q.name, ParameterFormatCodes: q.formats,
			Parameters: q.params}).Encode(b)
		if err != nil {
			done <- err
			return done
		}
		b, _ = (&pgproto3.Execute{}).Encode(b)
	}
	b, _ = (&pgproto3.Sync{}).Encode(b)
	p.buf = b

	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		done <- p.err
		return done
	}
	p.waiting = append(p.waiting, done)
	p.mu.Unlock()
	if _, err := p.conn.Write(b); err != nil {
		p.fail(err)
	}
	return done
}

// read delivers each batch's outcome when PostgreSQL is ready for the next
// one: the first error it reported, or nil.
func (p *pipe) read() {
	var batchErr error
	for {
		msg, err := p.frontend.Receive()
		if err != nil {
			p.fail(err)
			return
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			if batchErr == nil {
				batchErr = pgconn.ErrorResponseToPgError(m)
			}
		case *pgproto3.ReadyForQuery:
			p.mu.Lock()
			if len(p.waiting) == 0 {
				p.mu.Unlock()
				p.fail(errors.New("postgres answered a batch that was not sent"))
				return
			}
			done := p.waiting[0]
			p.waiting = p.waiting[1:]
			p.mu.Unlock()
			done <- batchErr
			batchErr = nil
		}
	}
}

// fail closes the connection and delivers err to every batch waiting.
func (p *pipe) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		_ = p.conn.Close()
	}
	for _, done := range p.waiting {
		done <- p.err
	}
	p.waiting = nil
}

// broken reports whether the connection is lost.
func (p *pipe) broken() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err != nil
}

// close ends the session and closes the connection; batches still
// waiting fail.
func (p *pipe) close() {
	if !p.broken() {
		terminate, _ := (&pgproto3.Terminate{}).Encode(nil)
		_, _ = p.conn.Write(terminate)
	}
	p.fail(errPipeClosed)
}

var errPipeClosed = errors.New("ledger connection closed")
