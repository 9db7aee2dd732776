package main

import (
	"context"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
)

// unitAdmin serves the workspace's unit page and printouts (api.UnitAdmin) from the app's
// register and signer, every call scoped by the caller's unit.
type unitAdmin struct{ a *app }

var _ api.UnitAdmin = unitAdmin{}

func (x unitAdmin) SetSeal(ctx context.Context, unitID int64, png []byte, mm float64) error {
	u, err := x.a.reg.UnitByID(ctx, unitID)
	if err != nil {
		return err
	}
	u.SealImage, u.SealMM = png, mm
	return x.a.reg.UpdateUnit(ctx, u)
}

func (x unitAdmin) SetSignature(ctx context.Context, unitID, officerID int64, png []byte) error {
	o, err := x.a.reg.OfficerByID(ctx, officerID)
	if err != nil {
		return err
	}
	if o.UnitID != unitID {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "officer %d not found", officerID)
	}
	o.SignatureImage = png
	return x.a.reg.UpdateOfficer(ctx, o)
}

func (x unitAdmin) Books(ctx context.Context, unitID int64, year int) ([]*chungthuc.Book, error) {
	return x.a.reg.Books(ctx, unitID, year)
}

func (x unitAdmin) BookPrint(ctx context.Context, unitID, bookID int64, csv bool) ([]byte, error) {
	b, err := x.a.reg.BookByID(ctx, bookID)
	if err != nil {
		return nil, err
	}
	if b.UnitID != unitID {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "book %d not found", bookID)
	}
	u, err := x.a.reg.UnitByID(ctx, unitID)
	if err != nil {
		return nil, err
	}
	return x.a.printBook(ctx, b, u, time.Time{}, time.Time{}, csv)
}

func (x unitAdmin) RefusalSlip(ctx context.Context, unitID, refusalID int64) ([]byte, error) {
	r, err := x.a.reg.RefusalByID(ctx, refusalID)
	if err != nil {
		return nil, err
	}
	if r.UnitID != unitID {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "refusal %d not found", refusalID)
	}
	return x.a.refusalSlip(ctx, r)
}
