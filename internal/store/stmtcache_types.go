package store

import (
	"database/sql/driver"
	"reflect"
)

type reflectType = reflect.Type

var anyType = reflect.TypeFor[any]()

func columnScanType(r driver.Rows, i int) reflect.Type {
	if t, ok := r.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return anyType
}
