package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"govlive/accounts"
	"govlive/content"
	"govlive/store"
)

// userActions are the subcommands of "govlive user", with what each takes.
var userActions = map[string]string{
	"add":     "--role ROLE [--role ROLE…] [--display 姓名] NAME",
	"list":    "",
	"passwd":  "NAME",
	"disable": "NAME",
	"enable":  "NAME",
	"roles":   "--role ROLE [--role ROLE…] NAME",
	"link":    "--session ID --anchor ANCHOR [--guest] NAME",
	"unlink":  "--session ID --anchor ANCHOR",
	"unlock":  "NAME",
}

// roleFlag collects --role flags; each may name several roles, "a,b".
type roleFlag struct{ roles []accounts.Role }

func (f *roleFlag) String() string { return "" }

func (f *roleFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		r, err := accounts.ParseRole(s)
		if err != nil {
			return fmt.Errorf("unknown role %q (roles: admin, editor, anchor, moderator)", strings.TrimSpace(s))
		}
		if !slices.Contains(f.roles, r) {
			f.roles = append(f.roles, r)
		}
	}
	return nil
}

// userCmd manages the staff accounts. It only uses the database, so it
// runs beside a serve on the same data directory (as import and token
// do). Passwords are read from the terminal without echo, or as one line
// from stdin when it is not a terminal — never from the command line,
// where ps and the shell history would keep them.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		roles           roleFlag
		display         string
		session, anchor string
		guest           bool
	)
	flags := func(fs *flag.FlagSet) {
		fs.Var(&roles, "role", "add, roles: a role — admin, editor, anchor or moderator (场控); repeat it, or separate roles with commas")
		fs.StringVar(&display, "display", "", "add: the name the pages show (default: NAME)")
		fs.StringVar(&session, "session", "", "link, unlink: the content session")
		fs.StringVar(&anchor, "anchor", "", "link, unlink: the anchor's name, as the session lists it")
		fs.BoolVar(&guest, "guest", false, "link: the anchor is a guest the session does not list")
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		_, _, err := parseConfig("user", args[:1], getenv, stdout, " ACTION [args]", flags)
		return err
	}
	if len(args) == 0 || userActions[args[0]] == "" && args[0] != "list" {
		return usageError{errors.New(`user: want an action: add, list, passwd, disable, enable, roles, link, unlink or unlock (see govlive user -h)`)}
	}
	action, args := args[0], args[1:]
	for _, a := range args {
		if f := strings.TrimLeft(a, "-"); strings.HasPrefix(a, "-") && (f == "password" || strings.HasPrefix(f, "password=") || f == "p") {
			return usageError{fmt.Errorf("user %s: there is no %s flag: a password on the command line stays in ps and the shell history; type it at the prompt, or give it as one line on stdin", action, a)}
		}
	}
	cfg, rest, err := parseConfig("user", args, getenv, stdout, "", flags)
	if err != nil {
		return err
	}
	want := 1
	if action == "list" || action == "unlink" {
		want = 0
	}
	if len(rest) != want {
		return usageError{fmt.Errorf("user %s: want govlive user %s %s", action, action, userActions[action])}
	}
	name := ""
	if want == 1 {
		name = rest[0]
	}
	if (action == "add" || action == "roles") && len(roles.roles) == 0 {
		return usageError{fmt.Errorf("user %s: --role is required (admin, editor, anchor or moderator)", action)}
	}
	if (action == "link" || action == "unlink") && (strings.TrimSpace(session) == "" || strings.TrimSpace(anchor) == "") {
		return usageError{fmt.Errorf("user %s: --session and --anchor are required", action)}
	}

	db, err := store.Open(ctx, filepath.Join(cfg.Data, "govlive.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	acc, err := accounts.Open(ctx, accounts.Config{DB: db})
	if err != nil {
		return err
	}
	p := prompter{in: stdin, out: stderr}
	switch action {
	case "list":
		return listUsers(ctx, acc, stdout)
	case "add":
		pw, err := p.newPassword(name)
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		u, err := acc.Add(ctx, accounts.NewUser{Name: name, Display: display, Roles: roles.roles, Password: pw}, 0)
		if err != nil {
			return fmt.Errorf("user add: %w", explainAccountErr(err))
		}
		fmt.Fprintf(stdout, "added %s (%s), roles %s\n", u.Name, u.Display, joinRoles(u.Roles))
		return nil
	case "unlink":
		found, err := acc.UnlinkAnchor(ctx, content.SessionID(session), anchor, 0)
		if err != nil {
			return fmt.Errorf("user unlink: %w", err)
		}
		if !found {
			return fmt.Errorf("user unlink: no user is linked to %s in session %s", anchor, session)
		}
		fmt.Fprintf(stdout, "unlinked %s in session %s\n", anchor, session)
		return nil
	case "unlock":
		if _, err := acc.UserByName(ctx, name); err != nil {
			return fmt.Errorf("user unlock: %w", explainAccountErr(err))
		}
		if err := acc.Unlock(ctx, name); err != nil {
			return fmt.Errorf("user unlock: %w", err)
		}
		fmt.Fprintf(stdout, "%s may log in again (failed logins forgotten)\n", accounts.NormalizeName(name))
		return nil
	}
	u, err := acc.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("user %s: %w", action, explainAccountErr(err))
	}
	switch action {
	case "passwd":
		pw, err := p.newPassword(u.Name)
		if err != nil {
			return fmt.Errorf("user passwd: %w", err)
		}
		if err := acc.SetPassword(ctx, u.ID, pw, 0); err != nil {
			return fmt.Errorf("user passwd: %w", explainAccountErr(err))
		}
		fmt.Fprintf(stdout, "password of %s set; their login sessions are ended\n", u.Name)
	case "disable", "enable":
		if _, err := acc.SetDisabled(ctx, u.ID, action == "disable", 0); err != nil {
			return fmt.Errorf("user %s: %w", action, explainAccountErr(err))
		}
		if action == "disable" {
			fmt.Fprintf(stdout, "%s disabled; their login sessions are ended\n", u.Name)
		} else {
			fmt.Fprintf(stdout, "%s enabled\n", u.Name)
		}
	case "roles":
		u, err := acc.SetRoles(ctx, u.ID, roles.roles, 0)
		if err != nil {
			return fmt.Errorf("user roles: %w", explainAccountErr(err))
		}
		fmt.Fprintf(stdout, "%s now has roles %s\n", u.Name, joinRoles(u.Roles))
	case "link":
		cs, err := content.NewStore(ctx, db, time.Now)
		if err != nil {
			return err
		}
		ss, err := cs.Session(ctx, content.SessionID(session))
		if errors.Is(err, content.ErrNotFound) {
			return fmt.Errorf("user link: no session %q (sessions come from content packs: govlive import, or the sample pack on the first govlive serve)", session)
		}
		if err != nil {
			return fmt.Errorf("user link: %w", err)
		}
		if !guest && !listsAnchor(ss, anchor) {
			return usageError{fmt.Errorf("user link: session %s does not list the anchor %q (%s); link one of them, or add --guest for a guest anchor", session, anchor, anchorList(ss))}
		}
		if err := acc.LinkAnchor(ctx, accounts.AnchorLink{Session: ss.ID, Anchor: anchor, User: u.ID}, 0); err != nil {
			return fmt.Errorf("user link: %w", explainAccountErr(err))
		}
		fmt.Fprintf(stdout, "%s is %s in session %s\n", u.Name, strings.TrimSpace(anchor), ss.ID)
	}
	return nil
}

func anchorList(ss content.Session) string {
	var names []string
	for _, a := range ss.Anchors {
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		return "it lists none"
	}
	return "its anchors: " + strings.Join(names, ", ")
}

func joinRoles(roles []accounts.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// explainAccountErr adds what to do to the errors a person at the command
// line can fix.
func explainAccountErr(err error) error {
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return fmt.Errorf("%w (govlive user list shows the users)", err)
	case errors.Is(err, accounts.ErrWeakPassword):
		return fmt.Errorf("%w (want %d to %d characters, not the user name)", err, accounts.MinPassword, accounts.MaxPassword)
	case errors.Is(err, accounts.ErrLastAdmin):
		return fmt.Errorf("%w: add another admin first (govlive user add --role admin NAME)", err)
	case errors.Is(err, accounts.ErrNotAnchor):
		return fmt.Errorf("%w: give the user the anchor role first (govlive user roles --role anchor,… NAME)", err)
	}
	return err
}

func listUsers(ctx context.Context, acc *accounts.Store, stdout io.Writer) error {
	list, err := acc.Users(ctx)
	if err != nil {
		return err
	}
	links, err := acc.AnchorLinks(ctx, 0)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no users yet: add the first admin with govlive user add --role admin NAME")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY\tROLES\tSTATE\tANCHORS\tCREATED")
	for _, u := range list {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		var as []string
		for _, l := range links {
			if l.User == u.ID {
				as = append(as, string(l.Session)+":"+l.Anchor)
			}
		}
		an := strings.Join(as, " ")
		if an == "" {
			an = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Display, joinRoles(u.Roles), state, an, u.Created.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// prompter reads passwords: from the terminal without echo, asking
// twice, when in is one; else one line of in.
type prompter struct {
	in  io.Reader
	out io.Writer // where the prompts go (stderr)
}

// newPassword reads a new password for name.
func (p prompter) newPassword(name string) (string, error) {
	if f, ok := p.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(p.out, "new password for %s (%d to %d characters): ", name, accounts.MinPassword, accounts.MaxPassword)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.out)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprintf(p.out, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.out)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(p.in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin: give it as one line (printf '%s\\n' \"$PW\" | govlive user …), or run in a terminal to be asked")
	}
	return line, nil
}
