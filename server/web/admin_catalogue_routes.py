"""The procedure catalogue's administration under /api/v1/admin (admins only): departments, document kinds,
procedures.

Changes go through motcua.core.catalogue (checked, committed, then in memory), so the next dossier
opened, the next document attached and the department pages follow them at once.
"""
from __future__ import annotations

from flask import jsonify, request

from motcua.core.catalogue import services_not_here

from . import admin_schemas as schemas
from .admin_routes import bp
from .bodies import json_body
from .guards import ADMIN
from .openapi import operation
from .runtime import runtime
from .views import names


@bp.get("/admin/catalogue")
@operation("the whole procedure catalogue: departments, document kinds, procedures (the retired too) (admin)",
           schemas.AdminCatalogue, caller=ADMIN)
def admin_catalogue():
    catalogue = runtime().catalogue.current
    return jsonify({"departments": [department_view(d) for d in catalogue.departments.values()],
                    "document_kinds": [kind_view(k) for k in catalogue.kinds.values()],
                    "procedures": [procedure_view(p) for p in catalogue.procedures.values()]})


@bp.put("/admin/catalogue")
@operation("put a whole catalogue, in the form `motcua catalogue export` writes, in place of this one: checked, "
           "committed in one transaction and used at once by the next ticket, dossier and kiosk; a fault refuses "
           "it whole (400 naming it) and nothing changes. Procedures old dossiers name stay, retired. What "
           "`motcua catalogue import --server` calls (admin)", schemas.CatalogueImported,
           body=schemas.CatalogueFile, caller=ADMIN)
def admin_import_catalogue():
    rt = runtime()
    request.max_content_length = rt.config.dossiers.catalogue_max_kib * 1024   # a catalogue outgrows other bodies
    body = json_body()
    catalogue = rt.catalogue.import_data(body.model_dump(exclude_none=True))
    return jsonify({"departments": len(catalogue.departments), "document_kinds": len(catalogue.kinds),
                    "procedures": len(catalogue.procedures),
                    "services_not_here": services_not_here(catalogue, rt.engine.service_ids())})


@bp.post("/admin/departments")
@operation("a new competent department; its users are added with the department role (admin)",
           schemas.AdminDepartment, status=201, body=schemas.NewDepartment, caller=ADMIN, conflict=True)
def admin_add_department():
    body = json_body()
    department = runtime().catalogue.add_department(body.code, body.name.vi, body.name.en)
    return jsonify(department_view(department)), 201


@bp.patch("/admin/departments/<d>")
@operation("rename a department (admin)", schemas.AdminDepartment, body=schemas.DepartmentChange, caller=ADMIN)
def admin_update_department(d):
    body = json_body()
    department = runtime().catalogue.update_department(d, body.name.vi, body.name.en)
    return jsonify(department_view(department))


@bp.post("/admin/document-kinds")
@operation("a new kind of document procedures may require, and whether a copy may be reused for another dossier "
           "of its citizen, and for how many months after it was digitised (valid_months; absent: no limit) (admin)", schemas.AdminDocumentKind, status=201, body=schemas.NewDocumentKind,
           caller=ADMIN, conflict=True)
def admin_add_document_kind():
    body = json_body()
    kind = runtime().catalogue.add_document_kind(body.kind, body.name.vi, body.name.en, body.reusable,
                                                 body.valid_months)
    return jsonify(kind_view(kind)), 201


@bp.post("/admin/procedures")
@operation("a new procedure: field, competent department, statutory working days, required document kinds and "
           "the queue services whose tickets may open it; the next dossier may follow it (admin)",
           schemas.AdminProcedure, status=201, body=schemas.NewProcedure, caller=ADMIN, conflict=True,
           errors=(404,))
def admin_add_procedure():
    body = json_body()
    rt = runtime()
    procedure = rt.catalogue.add_procedure(body.code, body.name.vi, body.name.en, body.field, body.department,
                                           body.statutory_days, body.documents or (), body.services or (),
                                           known_services=rt.engine.service_ids())
    return jsonify(procedure_view(procedure)), 201


@bp.patch("/admin/procedures/<p>")
@operation("change a procedure, or retire it (\"retired\": true): a retired procedure is never deleted, it opens "
           "no new dossier and its old dossiers stay readable (admin)", schemas.AdminProcedure,
           body=schemas.ProcedureChange, caller=ADMIN)
def admin_update_procedure(p):
    body = json_body()
    rt = runtime()
    name = body.name or schemas.ProcedureNamesChange()
    procedure = rt.catalogue.update_procedure(p, rt.engine.service_ids(), documents=body.documents,
                                              services=body.services, name_vi=name.vi, name_en=name.en,
                                              field=body.field, department=body.department,
                                              statutory_days=body.statutory_days, retired=body.retired)
    return jsonify(procedure_view(procedure))


# ---- views ------------------------------------------------------------------------------------

def department_view(department) -> dict:
    return {"code": department.code, "name": names(department)}


def kind_view(kind) -> dict:
    return {"kind": kind.kind, "name": names(kind), "reusable": kind.reusable, "valid_months": kind.valid_months}


def procedure_view(procedure) -> dict:
    return {"code": procedure.code, "name": names(procedure), "field": procedure.field,
            "department": procedure.department, "statutory_days": procedure.statutory_days,
            "documents": [k.kind for k in procedure.documents], "services": list(procedure.services),
            "retired": procedure.retired}
