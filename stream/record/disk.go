package record

import "fmt"

// Disk reads the space of the volume that holds a directory.
type Disk interface {
	Usage(dir string) (Usage, error)
}

// Usage is the size of a volume and the space left on it, in bytes.
type Usage struct {
	Size uint64 // the volume's size
	Free uint64 // what the server may still write (not the blocks kept for root)
}

// Statfs is the Disk of the operating system, read with statfs(2).
type Statfs struct{}

var _ Disk = Statfs{}

// MinFree is the free space to keep on the recordings' volume: Bytes,
// or Percent of the volume's size, whichever is more. Zero keeps none.
type MinFree struct {
	Bytes   uint64
	Percent float64
}

// Of is the free space to keep on a volume of size bytes.
func (m MinFree) Of(size uint64) uint64 {
	return max(m.Bytes, uint64(float64(size)*m.Percent/100))
}

// String is m as an operator writes it: 5%, 2GB, or both.
func (m MinFree) String() string {
	switch {
	case m.Percent > 0 && m.Bytes > 0:
		return fmt.Sprintf("%g%% or %s", m.Percent, FormatBytes(m.Bytes))
	case m.Percent > 0:
		return fmt.Sprintf("%g%%", m.Percent)
	default:
		return FormatBytes(m.Bytes)
	}
}

// FormatBytes writes a byte count for people: 0, 512B, 1.5MB, 20GB
// (decimal units, as disks are sold).
func FormatBytes(n uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	v, i := float64(n), 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	switch {
	case n == 0:
		return "0"
	case i == 0:
		return fmt.Sprintf("%dB", n)
	default:
		return fmt.Sprintf("%.3g%s", v, units[i])
	}
}
