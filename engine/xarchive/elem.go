package xarchive

import (
	"encoding/json"
	"errors"
	"fmt"
)

// idRef is the object inside a follow, block or mute element. Only
// accountId is read: userLink is optional and its host varies.
type idRef struct {
	AccountID json.RawMessage `json:"accountId"`
}

// One element type per kind, so a stray key of another kind is ignored
// rather than type-checked.
type (
	followingElem struct {
		V *idRef `json:"following"`
	}
	followerElem struct {
		V *idRef `json:"follower"`
	}
	blockElem struct {
		V *idRef `json:"blocking"`
	}
	muteElem struct {
		V *idRef `json:"muting"`
	}
)

// idElem decodes one follow/block/mute element with encoding/json. It is the
// generic path behind scanIDElem, and what FuzzParse compares it with.
func idElem(kind Kind, dec func(v any) error) (json.RawMessage, error) {
	var ref *idRef
	var err error
	switch kind {
	case KindFollowing:
		var e followingElem
		err, ref = dec(&e), e.V
	case KindFollower:
		var e followerElem
		err, ref = dec(&e), e.V
	case KindBlock:
		var e blockElem
		err, ref = dec(&e), e.V
	case KindMute:
		var e muteElem
		err, ref = dec(&e), e.V
	default:
		return nil, fmt.Errorf("xarchive: kind %q holds no account ids", kind)
	}
	if err != nil || ref == nil {
		return nil, err
	}
	return ref.AccountID, nil
}

// idValue turns the raw accountId into its digits. A JSON string is the
// norm; a bare integer is tolerated. It returns nil for a missing id.
func idValue(raw json.RawMessage) ([]byte, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []byte(s), true
	}
	if raw[0] >= '0' && raw[0] <= '9' {
		return raw, true
	}
	return nil, false
}

// listElem is an element of lists-created.js / lists-member.js.
type listElem struct {
	UserListInfo *struct {
		URL *string `json:"url"`
	} `json:"userListInfo"`
}

// accountElem is the element of account.js. It has no field for the e-mail
// address (or the phone, or createdVia): encoding/json skips them, so they
// are never copied out of the read buffer.
type accountElem struct {
	Account *struct {
		AccountID   json.RawMessage `json:"accountId"`
		Username    string          `json:"username"`
		DisplayName string          `json:"accountDisplayName"`
		CreatedAt   string          `json:"createdAt"`
	} `json:"account"`
}

// jsonError converts an encoding/json error for the element that starts at
// off (element number n) into an *Error.
func jsonError(file string, off int64, n int, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		e := newError(ESYNTAX, file, "invalid JSON in element %d: %s", n, se.Error())
		e.Offset, e.Err = off+max(se.Offset-1, 0), err
		return e
	case errors.As(err, &te):
		e := newError(ESHAPE, file, "element %d: %s is a JSON %s, which is not the expected type", n, te.Field, te.Value)
		if te.Field == "" {
			e.Msg = fmt.Sprintf("element %d is a JSON %s, not an object", n, te.Value)
		}
		e.Offset, e.Err = off, err
		return e
	}
	return err
}

func badID(file string, off int64, n int, wrapper string, id []byte, present bool) error {
	var e *Error
	if !present {
		e = newError(EBADID, file, "element %d has no %s.accountId", n, wrapper)
	} else {
		e = newError(EBADID, file, "element %d: accountId %s is not a decimal X id", n, snippet(id))
	}
	e.Offset = off
	return e
}
