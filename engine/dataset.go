package engine

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DatasetRow is one link of a dataset: this X account is that account.
type DatasetRow struct {
	XID     string  `json:"xid"`
	Network Network `json:"network"`
	Account string  `json:"account"`
	Trust   Trust   `json:"trust"`
	Score   float64 `json:"score"` // 0 when the file has no score column
}

// RowError is a bad row of a dataset file.
type RowError struct {
	Line int    `json:"line"`
	Msg  string `json:"error"`
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// MaxDatasetRows bounds one dataset file.
const MaxDatasetRows = 5_000_000

// ParseDataset reads a dataset CSV with the header
// xid,network,account,trust[,score]. It reads the whole file and returns
// every bad row with its line number; the caller refuses the file when any
// row is bad (a dataset is imported whole or not at all, so a typo never
// leaves half a dataset in the graph). A pair repeated in the file keeps its
// last row.
func ParseDataset(r io.Reader) ([]DatasetRow, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, Errorf(EINVALID, "dataset: no header line (want xid,network,account,trust[,score])")
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	withScore := len(cols) == 5 && cols[4] == "score"
	if len(cols) < 4 || cols[0] != "xid" || cols[1] != "network" || cols[2] != "account" || cols[3] != "trust" || len(cols) == 5 && !withScore || len(cols) > 5 {
		return nil, nil, Errorf(EINVALID, "dataset: header is %q, want xid,network,account,trust[,score]", strings.Join(header, ","))
	}
	var rows []DatasetRow
	var bad []RowError
	index := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{Line: pe.Line, Msg: pe.Err.Error()})
				continue
			}
			return nil, nil, fmt.Errorf("dataset: %w", err)
		}
		if len(rows) >= MaxDatasetRows {
			return nil, nil, Errorf(ETOOLARGE, "dataset: more than %d rows", MaxDatasetRows)
		}
		if len(rec) != len(cols) {
			bad = append(bad, RowError{line, fmt.Sprintf("%d fields, want %d", len(rec), len(cols))})
			continue
		}
		row, msg := parseRow(rec, withScore)
		if msg != "" {
			bad = append(bad, RowError{line, msg})
			continue
		}
		key := row.XID + "\x00" + string(row.Network) + "\x00" + row.Account
		if i, ok := index[key]; ok {
			rows[i] = row
			continue
		}
		index[key] = len(rows)
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseRow(rec []string, withScore bool) (DatasetRow, string) {
	var row DatasetRow
	row.XID = strings.TrimSpace(rec[0])
	if err := CheckXID(row.XID); err != nil {
		return row, ErrorMessage(err)
	}
	n, err := ParseNetwork(strings.TrimSpace(rec[1]))
	if err != nil {
		return row, ErrorMessage(err)
	}
	row.Network = n
	if row.Account, err = CheckAccount(n, strings.TrimSpace(rec[2])); err != nil {
		return row, ErrorMessage(err)
	}
	if row.Trust, err = ParseTrust(strings.TrimSpace(rec[3])); err != nil {
		return row, ErrorMessage(err)
	}
	if withScore && strings.TrimSpace(rec[4]) != "" {
		s, err := strconv.ParseFloat(strings.TrimSpace(rec[4]), 64)
		if err != nil || s < 0 || s > 1 {
			return row, fmt.Sprintf("score %q is not a number between 0 and 1", rec[4])
		}
		row.Score = s
	}
	return row, ""
}
