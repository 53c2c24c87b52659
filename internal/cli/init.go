package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

func newInitCommand(o *options) *cobra.Command {
	var name, location string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starter cluster file",
		Long: `Write a starter cluster file (3 control planes, 2 workers) to the path given
with -f (default cluster.yaml). Every key it leaves out keeps the default of the
terraform-hcloud-kubernetes module. An existing file is never overwritten
unless --force is given.`,
		Example: `  hcloud-k8s init --name prod --location nbg1
  hcloud-k8s init -f clusters/staging.yaml --name staging`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(config.Locations, location) {
				return fmt.Errorf("invalid value %q for --location: use one of %s", location, strings.Join(config.Locations, ", "))
			}
			data := config.Starter(config.StarterOptions{Name: name, Location: location})
			if _, err := config.Parse(data, o.file); err != nil {
				var es config.Errors
				if errors.As(err, &es) && len(es) > 0 && es[0].Path == "cluster.name" {
					return fmt.Errorf("invalid value %q for --name: use 1-32 lowercase letters, digits and dashes, starting and ending with a letter or digit", name)
				}
				return fmt.Errorf("starter file does not validate (a bug in hcloud-k8s): %w", err)
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			// 0600: cluster files may later hold backup keys or a CSI passphrase.
			f, err := os.OpenFile(o.file, flags, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists; pass --force to overwrite it or -f to write elsewhere", o.file)
			}
			if err != nil {
				return fmt.Errorf("write cluster file: %w", err)
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return fmt.Errorf("write cluster file: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write cluster file: %w", err)
			}
			if o.output == outputJSON {
				return writeJSON(cmd.OutOrStdout(), kindInit, initDoc{File: o.file, Cluster: name})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s for cluster %q (3 control planes, 2 workers in %s).\nNext: edit it, then run `hcloud-k8s validate -f %s`.\n", o.file, name, location, o.file)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "demo", "cluster name (1-32 lowercase letters, digits and dashes)")
	cmd.Flags().StringVar(&location, "location", "fsn1", "Hetzner location of every pool: "+strings.Join(config.Locations, ", "))
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	_ = cmd.RegisterFlagCompletionFunc("location", cobra.FixedCompletions(config.Locations, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// initDoc is init's -o json document: the file written and the cluster it names.
type initDoc struct {
	File    string `json:"file"`
	Cluster string `json:"cluster"`
}
