"""stored bytes and the gallery's indexes: the size of the files each image, generation and character
refers to; generations by character (the gallery's filter)

Revision ID: 0010
Revises: 0009

Existing rows start at 0; `flask storage recount` measures their files once after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('images', 'generations', 'characters')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('stored_bytes', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.create_index('ix_generations_character', ['character_id'], unique=False)


def downgrade():
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_character')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('stored_bytes')
