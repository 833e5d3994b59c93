// Package xarchive reads the social graph out of an X (Twitter) data
// archive: who the owner follows, who follows them, blocks, mutes and
// lists, plus the owner's account.
//
// An archive comes as a ZIP (Zip64 too, possibly under one top-level
// folder), as the unzipped folder (with or without its data/ level) or as
// loose .js files. Open reads the ZIP central directory or lists the
// folder, and manifest.js; Each, EachURL and Account then stream the data
// files they need, never media. Every data file is JavaScript assigning
// one JSON array (`window.YTD.following.part0 = [ ... ]`); it is read one
// element at a time, so memory stays bounded whatever its size, and ids
// stay decimal strings (they exceed 2^53).
//
// Hostile input is expected: Limits caps the bytes read, the ZIP entry
// count, the compression ratio and the size of one element, and entry
// names that climb out of the archive are refused. Every problem with the
// input is an *Error with a Code and a one-line message naming the file.
//
// The e-mail address in account.js is never decoded.
//
// Layout: open.go finds the data files (ZIP, folder, loose), archive.go
// orders them and streams them, stream.go is the reader of one data file
// (with a fast path for the usual element shape; FuzzParse checks it
// against encoding/json), inspect.go builds the Report.
package xarchive
