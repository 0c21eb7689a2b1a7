package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/postgres"
	"github.com/kontorhq/kontor/projections"
)

// exportProgressEvery is how many logs `kontor ledger export` writes (and
// import reads) between two progress lines.
const exportProgressEvery = 10000

func newLedgerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Operate on a ledger's log: export, import, verify its hash chain, rebuild from it",
	}
	cmd.AddCommand(newLedgerExportCmd(), newLedgerImportCmd(), newLedgerVerifyCmd(), newLedgerRebuildCmd())
	return cmd
}

// postgresFlag declares --postgres-uri on cmd and returns a function that
// opens a pool on it (KONTOR_POSTGRES_URI applies unless the flag is set).
func postgresFlag(cmd *cobra.Command) func(context.Context) (*pgxpool.Pool, error) {
	uri := cmd.Flags().String("postgres-uri", config.DefaultPostgresURI,
		"PostgreSQL connection URI (env "+config.EnvName("postgres-uri")+")")
	return func(ctx context.Context) (*pgxpool.Pool, error) {
		if err := config.ApplyEnv(cmd.Flags(), nil); err != nil {
			return nil, err
		}
		return postgres.Open(ctx, *uri)
	}
}

func newLedgerExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export LEDGER",
		Short: "Write every log of LEDGER to stdout, one JSON object per line",
		Long: `Write every log of LEDGER to stdout, in id order, one JSON object per line:
the same stream as POST /api/ledger/v2/{ledger}/logs/export. Progress goes to
stderr.`,
		Args: cobra.ExactArgs(1),
	}
	open := postgresFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		pool, err := open(cmd.Context())
		if err != nil {
			return err
		}
		defer pool.Close()
		name, start := args[0], time.Now()
		out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
		progress := &progressWriter{w: out, report: func(lines int) {
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d logs of ledger %s…\n", lines, name)
		}}
		n, err := projections.NewReader(pool).ExportLogs(cmd.Context(), name, progress)
		if err != nil {
			return fmt.Errorf("export ledger %s: %w", name, err)
		}
		if err := out.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "exported %d logs of ledger %s in %s\n", n, name,
			time.Since(start).Round(time.Millisecond))
		return nil
	}
	return cmd
}

// progressWriter passes writes on to w and calls report with the number of
// lines written so far every exportProgressEvery lines.
type progressWriter struct {
	w      io.Writer
	report func(lines int)
	lines  int
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	newLines := bytes.Count(b[:n], []byte{'\n'})
	if p.lines/exportProgressEvery != (p.lines+newLines)/exportProgressEvery {
		p.report(p.lines + newLines)
	}
	p.lines += newLines
	return n, err
}

func newLedgerImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import LEDGER FILE",
		Short: "Replay an export (FILE, - for stdin) into LEDGER, which must have no logs",
		Long: `Replay the logs of FILE — an export, one JSON log per line, ours or the
reference ledger's — into LEDGER, which must exist and have no logs: the same
as POST /api/ledger/v2/{ledger}/logs/import. Every hash is recomputed and
checked; on any error nothing of the import remains. Progress goes to stderr.`,
		Args: cobra.ExactArgs(2),
	}
	open := postgresFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, path, start := args[0], args[1], time.Now()
		var in io.Reader = cmd.InOrStdin()
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		n, err := replay(cmd, open, "imported %d logs into ledger "+name+"…",
			func(store *eventstore.Store, progress func(int)) (int, error) {
				return store.Import(cmd.Context(), name, bufio.NewReaderSize(in, 256<<10), progress)
			})
		if err != nil {
			return fmt.Errorf("import into ledger %s: %w", name, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "imported %d logs into ledger %s in %s\n", n, name,
			time.Since(start).Round(time.Millisecond))
		return nil
	}
	return cmd
}

func newLedgerRebuildCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rebuild LEDGER",
		Short: "Drop LEDGER's read models and build them again from its logs",
		Long: `Drop the read models of LEDGER — transactions, accounts, volumes, moves,
metadata history — and build them again by replaying its logs through the
write path, checking every hash. It runs in one transaction holding the
ledger's lock: writes wait, reads see the old read models until it is done,
and on any error nothing changes. Progress goes to stderr.`,
		Args: cobra.ExactArgs(1),
	}
	open := postgresFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, start := args[0], time.Now()
		n, err := replay(cmd, open, "replayed %d logs of ledger "+name+"…",
			func(store *eventstore.Store, progress func(int)) (int, error) {
				return store.Rebuild(cmd.Context(), name, progress)
			})
		if err != nil {
			return fmt.Errorf("rebuild ledger %s: %w", name, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "rebuilt ledger %s from %d logs in %s\n", name, n,
			time.Since(start).Round(time.Millisecond))
		return nil
	}
	return cmd
}

// replay runs an import or a rebuild on a store over the command's
// database, printing progress (a format with one %d, the logs replayed so
// far) to stderr every exportProgressEvery logs.
func replay(cmd *cobra.Command, open func(context.Context) (*pgxpool.Pool, error), progress string,
	run func(store *eventstore.Store, progress func(int)) (int, error)) (int, error) {
	pool, err := open(cmd.Context())
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	store := eventstore.New(pool, eventstore.Options{})
	defer store.Close()
	return run(store, func(done int) {
		if done%exportProgressEvery == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), progress+"\n", done)
		}
	})
}

func newLedgerVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify LEDGER",
		Short: "Re-compute LEDGER's log hash chain and report the first break",
		Long: `Re-compute the hash chain of LEDGER's logs from their stored data and
compare it with the stored hashes, over the logs --from..--to (default: all).
It exits with an error at the first log whose hash differs.`,
		Args: cobra.ExactArgs(1),
	}
	open := postgresFlag(cmd)
	from := cmd.Flags().Uint64("from", 1, "first log id to verify")
	to := cmd.Flags().Uint64("to", 0, "last log id to verify (0: the last log)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		pool, err := open(cmd.Context())
		if err != nil {
			return err
		}
		defer pool.Close()
		name := args[0]
		v, err := projections.NewReader(pool).VerifyLogs(cmd.Context(), name, *from, *to)
		if err != nil {
			return fmt.Errorf("verify ledger %s: %w", name, err)
		}
		b64 := base64.StdEncoding.EncodeToString
		if v.Break != nil {
			fmt.Fprintf(cmd.OutOrStdout(), "ledger %s: %d logs checked, chain broken at log %d: expected %s, got %s\n",
				name, v.Checked, v.Break.LogID, b64(v.Break.Expected), b64(v.Break.Got))
			return fmt.Errorf("ledger %s: hash chain broken at log %d", name, v.Break.LogID)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "ledger %s: %d logs checked, chain intact, last log %d hash %s\n",
			name, v.Checked, v.LastID, b64(v.LastHash))
		return nil
	}
	return cmd
}
