package studio

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
)

// roleLabels are the roles as the pages name them.
var roleLabels = map[accounts.Role]string{
	accounts.RoleAdmin:     "管理员",
	accounts.RoleEditor:    "编辑",
	accounts.RoleAnchor:    "主播",
	accounts.RoleModerator: "场控",
}

// roleHelp says what each role may do, on the user management page.
var roleHelp = map[accounts.Role]string{
	accounts.RoleAdmin:     "管理用户（添加、停用、重设密码、设置角色），并可进行其他所有角色的操作。",
	accounts.RoleEditor:    "维护知识库：常见问题、政策文件、直播场次和词表；每次修改都记录修改人。",
	accounts.RoleAnchor:    "主持其被指定的直播场次：推流、查看未公开场次、处理互动和工单。",
	accounts.RoleModerator: "场控：在主播身旁筛选互动区的问题和工单、隐藏消息、禁言观众。",
}

// roleBox is one role's checkbox.
type roleBox struct {
	Value   accounts.Role
	Label   string
	Checked bool
}

func roleBoxes(have []accounts.Role) []roleBox {
	out := make([]roleBox, 0, len(accounts.Roles))
	for _, r := range accounts.Roles {
		out = append(out, roleBox{Value: r, Label: roleLabels[r], Checked: slices.Contains(have, r)})
	}
	return out
}

// userRow is one user on the user management page.
type userRow struct {
	ID       accounts.UserID
	Name     string
	Display  string
	Roles    []roleBox
	Disabled bool
	Self     bool
	Created  string
}

// usersData is the user management page.
type usersData struct {
	pageData
	Users []userRow
	Add   struct {
		Name, Display string
		Roles         []roleBox
	}
	RoleHelp     []struct{ Label, Help string }
	PasswordRule string
	MinPassword  int
}

// doneNotices are the notices after an action (?done=), by code: the
// page never shows text from the URL.
var doneNotices = map[string]string{
	"added":    "已添加用户 %s",
	"roles":    "已保存 %s 的角色",
	"password": "已重设 %s 的密码，其所有登录会话已失效",
	"disable":  "已停用 %s，其所有登录会话已失效",
	"enable":   "已启用 %s",
}

// usersPage answers GET /admin/users.
func (s *Server) usersPage(c *fiber.Ctx) error {
	d, err := s.usersData(c)
	if err != nil {
		return err
	}
	if format, ok := doneNotices[c.Query("done")]; ok {
		id, _ := strconv.ParseInt(c.Query("id"), 10, 64)
		for _, u := range d.Users {
			if int64(u.ID) == id {
				d.Notice = strings.Replace(format, "%s", u.Display+"（"+u.Name+"）", 1)
			}
		}
	}
	return s.render(c, fiber.StatusOK, "users", d)
}

func (s *Server) usersData(c *fiber.Ctx) (usersData, error) {
	me, _ := currentUser(c)
	list, err := s.cfg.Accounts.Users(c.UserContext())
	if err != nil {
		return usersData{}, err
	}
	d := usersData{pageData: s.base(c, "用户管理"), PasswordRule: passwordRule, MinPassword: accounts.MinPassword}
	for _, u := range list {
		d.Users = append(d.Users, userRow{ID: u.ID, Name: u.Name, Display: u.Display, Roles: roleBoxes(u.Roles),
			Disabled: u.Disabled, Self: u.ID == me.ID, Created: u.Created.In(chinaTime).Format("2006-01-02 15:04")})
	}
	d.Add.Roles = roleBoxes(nil)
	for _, r := range accounts.Roles {
		d.RoleHelp = append(d.RoleHelp, struct{ Label, Help string }{roleLabels[r], roleHelp[r]})
	}
	return d, nil
}

// formRoles reads the role checkboxes of a form.
func formRoles(c *fiber.Ctx) []accounts.Role {
	var roles []accounts.Role
	for _, v := range c.Request().PostArgs().PeekMulti("role") {
		roles = append(roles, accounts.Role(strings.Clone(string(v))))
	}
	return roles
}

// addUser answers POST /admin/users (name, display, role…, password).
func (s *Server) addUser(c *fiber.Ctx) error {
	me, _ := currentUser(c)
	n := accounts.NewUser{
		Name:     strings.Clone(c.FormValue("name")),
		Display:  strings.Clone(c.FormValue("display")),
		Roles:    formRoles(c),
		Password: strings.Clone(c.FormValue("password")),
	}
	u, err := s.cfg.Accounts.Add(c.UserContext(), n, me.ID)
	if err != nil {
		return s.usersError(c, err, func(d *usersData) {
			d.Add.Name, d.Add.Display, d.Add.Roles = n.Name, n.Display, roleBoxes(n.Roles)
		})
	}
	s.cfg.Log.Info("user added", "by", me.Name, "user", u.Name, "roles", u.Roles)
	return c.Redirect("/admin/users?done=added&id="+strconv.FormatInt(int64(u.ID), 10), fiber.StatusSeeOther)
}

// changeUser answers POST /admin/users/:uid/roles|password|disable|enable.
func (s *Server) changeUser(c *fiber.Ctx) error {
	me, _ := currentUser(c)
	n, err := strconv.ParseInt(c.Params("uid"), 10, 64)
	if err != nil || n <= 0 {
		return s.errorPage(c, accounts.ErrNotFound)
	}
	id, ctx := accounts.UserID(n), c.UserContext()
	action := strings.Clone(c.Params("action"))
	switch action {
	case "roles":
		_, err = s.cfg.Accounts.SetRoles(ctx, id, formRoles(c), me.ID)
	case "password":
		err = s.cfg.Accounts.SetPassword(ctx, id, strings.Clone(c.FormValue("password")), me.ID)
	case "disable", "enable":
		_, err = s.cfg.Accounts.SetDisabled(ctx, id, action == "disable", me.ID)
	default:
		return fiber.ErrNotFound
	}
	if errors.Is(err, accounts.ErrNotFound) {
		return s.errorPage(c, err)
	}
	if err != nil {
		return s.usersError(c, err, nil)
	}
	s.cfg.Log.Info("user changed", "by", me.Name, "user", int64(id), "action", action)
	if id == me.ID && (action == "password" || action == "disable") {
		// one's own sessions ended with it, this one too
		s.clearCookie(c, sessionCookie, "/")
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect("/admin/users?done="+action+"&id="+strconv.FormatInt(n, 10), fiber.StatusSeeOther)
}

// usersError answers the user management page again with the error said
// in words, the add form kept as edit leaves it.
func (s *Server) usersError(c *fiber.Ctx, err error, edit func(*usersData)) error {
	status, msg := statusOf(err)
	if status >= 500 {
		return err
	}
	d, derr := s.usersData(c)
	if derr != nil {
		return derr
	}
	d.Error = msg
	if edit != nil {
		edit(&d)
	}
	return s.render(c, status, "users", d)
}
