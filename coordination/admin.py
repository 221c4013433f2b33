from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from coordination.models import User


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "roles", "is_active")
    list_filter = ("groups", "is_active", "is_staff")

    @admin.display(description="Roles")
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
