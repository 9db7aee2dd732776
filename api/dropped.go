package api

import (
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/intake"
)

// needsConfirm stops a workspace certification whose PDF scans lose content in the copy
// (scripts, forms, attachments, hidden layers…): the officer sees the list and confirms
// before anything is signed.
type needsConfirm struct {
	Dropped []string
	Pages   int // files uploaded
}

func (n *needsConfirm) Error() string {
	return "the officer must confirm what is removed from the scans"
}

// droppedBeforeSigning runs the same intake the signer runs on the scans and returns what it
// would remove; nothing for images only, or when intake refuses the files (the workflow then
// answers with its own error).
func droppedBeforeSigning(scans []chungthuc.Scan) []string {
	pdf := false
	files := make([]intake.File, len(scans))
	for i, sc := range scans {
		files[i] = intake.File{Name: sc.Name, Data: sc.Data}
		pdf = pdf || strings.HasPrefix(string(sc.Data[:min(len(sc.Data), 5)]), "%PDF-")
	}
	if !pdf {
		return nil
	}
	_, rep, err := intake.Pages(files, intake.DefaultLimits())
	if err != nil || rep == nil {
		return nil
	}
	return rep.Dropped
}

// droppedVI translates the intake's report lines ("FILE: what removed") into Vietnamese.
var droppedVI = []struct{ en, vi string }{
	{"JavaScript (OpenAction) removed", "đã bỏ mã JavaScript chạy khi mở tệp (OpenAction)"},
	{"action on opening (OpenAction) removed", "đã bỏ thao tác tự chạy khi mở tệp (OpenAction)"},
	{"document actions (AA) removed", "đã bỏ các thao tác tự động của tài liệu (AA)"},
	{"JavaScript (document scripts) removed", "đã bỏ mã JavaScript của tài liệu"},
	{"embedded files removed", "đã bỏ các tệp đính kèm"},
	{"portfolio (collection) removed", "đã bỏ bộ hồ sơ nhiều tệp (portfolio)"},
	{"form fields (AcroForm) removed", "đã bỏ các ô biểu mẫu (AcroForm)"},
	{"XFA form removed", "đã bỏ biểu mẫu XFA"},
	{"optional content (hidden layers) removed; all content is shown", "đã bỏ các lớp ẩn; mọi nội dung đều được hiển thị"},
	{"bookmarks removed", "đã bỏ mục lục (bookmark)"},
	{"metadata removed", "đã bỏ siêu dữ liệu (metadata)"},
	{"JavaScript or actions in annotations removed", "đã bỏ JavaScript hoặc thao tác trong chú thích"},
	{"page actions (AA) removed", "đã bỏ các thao tác tự động của trang (AA)"},
	{"annotations removed", "đã bỏ chú thích"},
	{"resources of type", "đã bỏ tài nguyên loại"},
}

// lines is the report in the reader's language.
func (n *needsConfirm) lines(lang string) []string {
	if lang == "en" {
		return n.Dropped
	}
	out := make([]string, len(n.Dropped))
	for i, l := range n.Dropped {
		out[i] = l
		for _, t := range droppedVI {
			if j := strings.Index(l, ": "+t.en); j >= 0 {
				out[i] = l[:j] + ": " + t.vi + strings.TrimSuffix(l[j+2+len(t.en):], " removed")
				break
			}
		}
	}
	return out
}
