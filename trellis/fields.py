"""Serializer fields shared by the API's request bodies."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text, and only text. DRF's CharField turns a JSON number into a string (`{"name": 0}` would store "0"),
    so a body that breaks the documented `type: string` passed as valid; here it is a 400 like any other."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number, and only a number: DRF's FloatField also takes "1.5" (a string) and true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)
