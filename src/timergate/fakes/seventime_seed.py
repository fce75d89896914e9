"""The seeded Seven Time company: two fitters, customers, projects, work orders, tasks."""

from __future__ import annotations

from typing import Any

from timergate.fakes.base import Now
from timergate.fakes.seventime_account import Account

__all__ = ["seed_account"]


def seed_account(now: Now, client_secret: str) -> Account:
    """A small installation firm: two fitters, two customers, projects, work orders, tasks."""
    created = "2025-09-01T07:00:00.000Z"
    anna, erik = "65f1a2b3c4d5e6f708192a01", "65f1a2b3c4d5e6f708192a02"
    solglantan, norrport = "65f1a2b3c4d5e6f708192b01", "65f1a2b3c4d5e6f708192b02"
    stambyte, service = "65f1a2b3c4d5e6f708192c01", "65f1a2b3c4d5e6f708192c02"
    users = [
        _user(anna, "Anna", "Andersson", "anna@rorab.example", "1", 650, 310, created),
        _user(erik, "Erik", "Lindqvist", "erik@rorab.example", "2", 600, 290, created),
    ]
    customers = [
        _customer(solglantan, "Brf Solgläntan", "1001", "Uppsala", created),
        _customer(norrport, "Fastighets AB Norrport", "1002", "Gävle", created),
    ]
    projects = [
        _project(stambyte, "Stambyte Solgläntan", "3314", solglantan, "Brf Solgläntan", 695),
        _project(service, "Serviceavtal Norrport", "3315", norrport, "Fastighets AB Norrport", 0),
    ]
    work_orders = [
        {
            "_id": "65f1a2b3c4d5e6f708192d01",
            "workOrderNumber": 2901,
            "title": "Läckande blandare, lgh 1102",
            "customer": norrport,
            "customerName": "Fastighets AB Norrport",
            "project": service,
            "status": 100,
            "description": "",
            "pricePerHour": 720,
            "createDate": created,
        }
    ]
    tasks = [
        _task("65f1a2b3c4d5e6f708192e01", "Rivning badrum", stambyte, solglantan, anna, created),
        _task("65f1a2b3c4d5e6f708192e02", "Rörinstallation", stambyte, solglantan, anna, created),
    ]
    categories = [
        _category("65f1a2b3c4d5e6f708192f01", "Arbetstid", "010", 0, absence=False),
        _category("65f1a2b3c4d5e6f708192f02", "Restid", "020", 450, absence=False),
        _category("65f1a2b3c4d5e6f708192f03", "Semester", "040", 0, absence=True),
    ]
    collections = {
        "users": users,
        "customers": customers,
        "projects": projects,
        "workOrders": work_orders,
        "tasks": tasks,
        "timeCategories": categories,
    }
    objects = {name: {o["_id"]: o for o in items} for name, items in collections.items()}
    return Account(client_secret=client_secret, now=now, objects=objects)


def _user(
    user_id: str,
    first: str,
    last: str,
    email: str,
    number: str,
    price: int,
    cost: int,
    created: str,
) -> dict[str, Any]:
    return {
        "_id": user_id,
        "firstName": first,
        "lastName": last,
        "email": email,
        "personalNumber": "",
        "employeeNumber": number,
        "userName": first,
        "workPhone": "",
        "cellPhone": "",
        "createdDate": created,
        "modifiedDate": created,
        "userRoleId": 30,
        "isActive": True,
        "isActivated": True,
        "language": "SV",
        "pricePerHour": price,
        "costPerHour": cost,
    }


def _customer(customer_id: str, name: str, number: str, city: str, created: str) -> dict[str, Any]:
    return {
        "_id": customer_id,
        "customerNumber": number,
        "name": name,
        "organizationNumber": "",
        "email": "",
        "phone": "",
        "city": city,
        "country": "SE",
        "pricePerHour": 0,
        "isActive": True,
        "createdDate": created,
        "modifiedDate": created,
    }


def _project(
    project_id: str, name: str, number: str, customer: str, customer_name: str, price: int
) -> dict[str, Any]:
    return {
        "_id": project_id,
        "name": name,
        "projectNumber": number,
        "projectStatus": 50,
        "billingMethod": "RUNNING_ACCOUNT",
        "pricePerHour": price,
        "customer": customer,
        "customerName": customer_name,
        "color": "1E88E5",
        "isActive": True,
        "createdDate": "2025-09-01T07:00:00.000Z",
        "modifiedDate": "2025-09-01T07:00:00.000Z",
    }


def _task(
    task_id: str, title: str, project: str, customer: str, user: str, created: str
) -> dict[str, Any]:
    return {
        "_id": task_id,
        "title": title,
        "project": project,
        "customer": customer,
        "users": [user],
        "tags": [],
        "dependsOn": [],
        "dependents": [],
        "reminders": [],
        "createDate": created,
        "createdByUser": user,
    }


def _category(
    category_id: str, name: str, article: str, price: int, *, absence: bool
) -> dict[str, Any]:
    return {
        "_id": category_id,
        "name": name,
        "description": "",
        "isAbsenceType": absence,
        "isUnsocialHour": False,
        "isInvoiceable": not absence,
        "pricePerHour": price,
        "articleNumber": article,
        "isWorkTime": not absence,
        "isActive": True,
        "color": "FF9800",
        "isVacation": absence,
        "isMachineTime": False,
    }
