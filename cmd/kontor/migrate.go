package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/postgres"
)

func newMigrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Args:  cobra.NoArgs,
	}
	uri := cmd.Flags().String("postgres-uri", config.DefaultPostgresURI,
		"PostgreSQL connection URI (env "+config.EnvName("postgres-uri")+")")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := config.ApplyEnv(cmd.Flags(), nil); err != nil {
			return err
		}
		pool, err := postgres.Open(cmd.Context(), *uri)
		if err != nil {
			return err
		}
		defer pool.Close()
		applied, err := postgres.Migrate(cmd.Context(), pool)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s) %v\n", len(applied), applied)
		return nil
	}
	return cmd
}
