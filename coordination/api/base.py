"""What every coordination viewset shares: the error responses it documents, role
permissions per action and input serializers per action."""

from __future__ import annotations

from rest_framework import status, viewsets
from rest_framework.response import Response

from coordination import serializers as s

ERRORS = dict.fromkeys((400, 403, 404, 409), s.ErrorSerializer)


class TandemViewSet(viewsets.GenericViewSet):
    """What every viewset here shares: role permissions per action (`required_permissions`,
    checked by the default ActionPermissions) and input serializers per action."""

    required_permissions: dict[str, list[str]] = {}
    input_serializers: dict[str, type] = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.serializer_class)

    def validated_input(self, **context) -> dict:
        serializer = self.get_serializer(data=self.request.data, context_extra=context)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def get_serializer(self, *args, context_extra=None, **kwargs):
        kwargs.setdefault("context", {**self.get_serializer_context(), **(context_extra or {})})
        return self.get_serializer_class()(*args, **kwargs)

    def output(self, serializer_class, instance, http_status=status.HTTP_200_OK) -> Response:
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=http_status)
