//go:build !(linux || darwin || freebsd)

package record

import (
	"errors"
	"fmt"
)

// Usage is not known on this system.
func (Statfs) Usage(dir string) (Usage, error) {
	return Usage{}, fmt.Errorf("record: disk space of %s: %w", dir, errors.ErrUnsupported)
}
