from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from studyapp.accounts.models import User


@admin.register(User)
class StudentAdmin(UserAdmin):
    list_display = ("username", "email", "plan", "is_staff", "date_joined")
    list_filter = ("plan", "is_staff", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Plan", {"fields": ("plan",)}),)
