package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// CompletionOptions are the inputs of `delab completion`.
type CompletionOptions struct {
	IO *IOStreams
	// Shell is bash, zsh, fish or powershell.
	Shell string
}

// NewCmdCompletion builds `delab completion`, which prints the shell
// completion script cobra generates for the whole command tree. The
// script asks delab itself for lab and lesson ids (completeLabs,
// completeLessons), so it never goes stale.
func NewCmdCompletion(f *Factory, runF func(*cobra.Command, *CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "completion <bash|zsh|fish|powershell>",
		Short: "Print a shell completion script: commands, flags, lab and lesson ids",
		Long: `Print the completion script for your shell. With it, Tab completes
delab's commands and flags, lab ids (check, watch, hint, reset, grade --lab),
lesson ids (read), check ids (hint --check) and services (up).

  bash  add to ~/.bashrc (needs the bash-completion package):
          source <(delab completion bash)
  zsh   add to ~/.zshrc, after compinit:
          source <(delab completion zsh)
  fish  delab completion fish > ~/.config/fish/completions/delab.fish

Completion works for delab on your PATH (go install ./cmd/delab), not for
go run ./cmd/delab.`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			if runF != nil {
				return runF(cmd, opts)
			}
			return completionRun(cmd.Root(), opts)
		},
	}
}

func completionRun(root *cobra.Command, opts *CompletionOptions) error {
	switch opts.Shell {
	case "bash":
		return root.GenBashCompletionV2(opts.IO.Out, true)
	case "zsh":
		return root.GenZshCompletion(opts.IO.Out)
	case "fish":
		return root.GenFishCompletion(opts.IO.Out, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(opts.IO.Out)
	}
	return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown shell %q (bash, zsh, fish or powershell)", opts.Shell)}
}

// completeLabs completes the lab argument with the short lab ids people
// type, each with its title.
func completeLabs(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp // one lab only
		}
		c, err := f.Catalog()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, l := range c.Labs() {
			if strings.HasPrefix(short(l), toComplete) {
				out = append(out, cobra.CompletionWithDesc(short(l), l.Title))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeLessons completes the lesson argument of `delab read`.
func completeLessons(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.Catalog()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, l := range c.Lessons() {
			if strings.HasPrefix(shortLesson(l), toComplete) {
				out = append(out, cobra.CompletionWithDesc(shortLesson(l), l.Title))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeChecks completes `delab hint <lab> --check` with the lab's
// check ids.
func completeChecks(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		_, lab, err := f.resolveLab(args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, c := range lab.Checks {
			if strings.HasPrefix(c.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(c.ID, c.Title))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
